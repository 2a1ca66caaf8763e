"use strict";
// The merchant's TikTok page. Ecwid's payload is read once, kept in this closure only (never in storage or
// the URL) and exchanged for a session through POST /api/session; every /api/ call carries that session.
(() => {
  const byId = (id) => document.getElementById(id);
  const root = byId("page");
  const storeId = root.dataset.storeId;
  const appId = root.dataset.appId;
  const base = `/api/stores/${encodeURIComponent(storeId)}`;

  const query = new URLSearchParams(window.location.search);
  const payload = query.get("payload");
  // A TikTok callback that did not go through sends the merchant back with a notice code in Ecwid's app_state.
  const returnedNotice = new URLSearchParams(query.get("app_state") || "").get("tiktok_notice");
  window.history.replaceState(null, "", window.location.pathname);
  // The phone typed before leaving for TikTok, kept in this tab only, so coming back need not retype it.
  const PHONE_KEY = `tiktok-phone-${storeId}`;

  // What the page says when TikTok's page sent the merchant back without connecting (codes from the callbacks).
  const RETURN_NOTICES = {
    connect_cancelled: "You cancelled on TikTok’s page, so TikTok is not connected. Click “+ Connect TikTok "
      + "Account” to try again.",
    storefront_cancelled: "You cancelled on TikTok’s page, so your TikTok Storefront is not connected. Click "
      + "“Connect TikTok Storefront” to try again.",
    state_expired: "TikTok’s page was open for more than 10 minutes, so this attempt expired. Start again from "
      + "this page.",
    state_used: "That TikTok link was already used. Start again from this page.",
    invalid_state: "TikTok sent you back with a link this app did not make. Start again from this page.",
    missing_parameter: "TikTok sent you back without an answer. Start again from this page.",
    tiktok_auth_code_invalid: "TikTok’s answer had expired before the app could use it. Start again from this page.",
    tiktok_permission_missing: "TikTok did not give the app every permission it needs. Start again and allow "
      + "every permission TikTok asks for.",
    tiktok_unavailable: "TikTok did not answer. Wait a minute, then start again from this page.",
    tiktok_busy: "TikTok asked apps to slow down. Wait a few minutes, then start again from this page.",
    tiktok_access_revoked: "TikTok no longer accepts the app’s access. Connect again.",
    already_connected: "This store is already connected to TikTok.",
    not_connected: "Connect your store to TikTok first.",
    storefront_not_approved: "TikTok has not approved your storefront application yet.",
    storefront_not_connecting: "Start connecting your TikTok Storefront from this page.",
    storefront_not_confirmed: "TikTok has not confirmed your storefront yet. Wait a few minutes, then try again.",
    storefront_connected: "Your TikTok Storefront is already connected.",
  };

  // A product's edit page in the Ecwid admin. Not confirmed: ecwid-api.md gives no admin URL for a product; this is
  // the form the Ecwid admin shows in its address bar. It opens in a new tab: this page is framed by the admin.
  const ecwidProductUrl = (productId) =>
    `https://my.ecwid.com/store/${encodeURIComponent(storeId)}#product:id=${encodeURIComponent(productId)}`;
  // TikTok's advertising policies (the guide: rejected products do not comply with them), its index page.
  const TIKTOK_POLICIES_URL = "https://ads.tiktok.com/help/article?aid=10000494";
  // TikTok publishes no link into one catalog's Catalog Manager: the Business Center is the way in (Assets →
  // Catalogs → the catalog's trolley icon, as the guide says).
  const TIKTOK_BUSINESS_URL = "https://business.tiktok.com/";
  const CONNECTED_TEXT = "Connected: your store is connected to TikTok For Business. The first sync is sending your "
    + "products to TikTok; TikTok then reviews them, which can take up to several hours.";

  const RENEW_BEFORE_MS = 5 * 60 * 1000;
  const STATUSES = ["listed", "pending", "rejected", "held_back", "excluded", "kept_off"];
  // The lists whose products the merchant can switch ("Show on TikTok"), and what the switch does there.
  const STEERABLE = ["listed", "pending", "rejected", "held_back", "kept_off"];
  const MAX_PER_SWITCH = 500; // product ids per PUT …/products/visibility
  const REFRESH_AFTER_SWITCH_MS = [3000, 10000]; // the queued job applies the switch within seconds
  const LISTS = {
    listed: { title: "Listed products", help: "Approved by TikTok and shown in your TikTok catalog." },
    pending: {
      title: "Products pending review",
      help: "Sent to TikTok and waiting for its review, which can take up to several hours.",
    },
    rejected: {
      title: "Rejected products",
      help: "TikTok did not approve these products. Fix them in your Ecwid admin, then click Sync Products. "
        + "If you think TikTok is wrong, appeal in TikTok’s Catalog Manager (one appeal per product a month).",
    },
    held_back: {
      title: "Products not uploaded",
      help: "These products were not sent to TikTok. Fix what each one says in your Ecwid admin, "
        + "then click Sync Products.",
    },
    kept_off: {
      title: "Products kept off by you",
      help: "You switched these products, or their category, off TikTok: they stay off through every edit and sync "
        + "until you show them again. One line per product, whatever its variations.",
    },
    excluded: {
      title: "Products kept off by your store settings",
      help: "Disabled products, and products only in hidden categories: shoppers do not see them, so TikTok does "
        + "not get them. One line per product, whatever its variations.",
    },
  };
  const WHAT_TO_DO = {
    rejected: "Check TikTok’s advertising policies, fix the product in your Ecwid admin, then click Sync Products.",
    held_back: "Fix the product in your Ecwid admin (Catalog → Products), then click Sync Products.",
    kept_off: "Select it and click Show on TikTok; for a category you keep off, choose it below and click Show "
      + "them again.",
    excluded: "If it should be on TikTok, enable it in Ecwid, or show one of its categories (or add it to a shown "
      + "category); the change reaches TikTok at once.",
  };
  const NOTICE_TITLES = {
    catalog_frozen: "Your TikTok catalog is frozen",
    ecwid_access_lost: "The app lost access to your Ecwid store",
    reconnect_needed: "Reconnect TikTok",
    sync_waiting: "Your sync is waiting",
    tiktok_upload_refused: "TikTok refused to update your catalog",
    tiktok_permission_missing: "TikTok needs a permission",
  };
  // What each missing Ecwid scope stops (services/pixel.py PIXEL_SCOPES).
  const SCOPE_ABILITIES = {
    read_orders: "Reading your orders, to send purchases to TikTok from the server.",
    update_store_profile: "Adding the pixel to your storefront.",
    customize_storefront: "Adding the pixel to your storefront.",
  };
  const STOREFRONT_SCOPES = ["update_store_profile", "customize_storefront"];
  const STOREFRONT_STATES = {
    not_applied: "Not applied yet",
    submitted: "Application submitted",
    approved: "Approved by TikTok",
    rejected: "Not approved by TikTok",
    connecting: "Connecting",
    connected: "Connected",
  };

  let session = null;
  let sessionExpiresAt = 0;
  let renewTimer = null;
  let renewing = null;
  let status = null;
  let pollTimer = null;
  let lastSyncState = null;
  let lastCounts = null;
  let storefrontShown = null;
  let storefrontState = "not_applied"; // as the storefront section shows it now
  let listStatus = null;
  let listCursor = null;
  let alertFromRefresh = false;
  let finishedShownFor = null; // the status the "Sync finished" line was written for
  let ecwidReady = false;
  let pixelAsked = 0; // the latest pixel request: an older answer arriving later is not shown
  let pixelSaving = 0; // switch changes still waiting for their answer
  const selected = new Set(); // product ids selected in the list shown (a product's variations share its id)
  let switching = false; // a "Show on TikTok" switch waiting for its answers
  let switchRefreshTimers = [];
  let categories = null; // GET …/categories, once connected
  let categoriesAsked = 0;
  let lastCheckState = null; // the last "Check with TikTok" job's state the page showed

  class ApiError extends Error {
    constructor(message, code, httpStatus, fields) {
      super(message);
      this.code = code;
      this.httpStatus = httpStatus;
      this.fields = fields || null;
    }
  }

  // -- Ecwid's admin SDK, when the page runs inside the Ecwid admin ------------------------------
  function ecwidInit() {
    if (ecwidReady || !window.EcwidApp) return;
    try {
      window.EcwidApp.init({ app_id: appId, autoloadedflag: true, autoheight: true });
      ecwidReady = true;
    } catch (error) {
      ecwidReady = false;
    }
    resize();
  }
  function resize() {
    if (!ecwidReady || typeof window.EcwidApp.setSize !== "function") return;
    window.requestAnimationFrame(() => {
      try {
        window.EcwidApp.setSize({ height: document.documentElement.scrollHeight });
      } catch (error) {
        // outside the admin's frame: nothing to resize
      }
    });
  }
  const sdk = byId("ecwid-sdk");
  if (window.EcwidApp) ecwidInit();
  else if (sdk) sdk.addEventListener("load", ecwidInit);

  // -- the session ------------------------------------------------------------------------------
  async function openSession() {
    if (!payload) {
      throw new ApiError("Open the TikTok page again from your Ecwid admin.", "payload_missing", 401);
    }
    const body = await call("POST", "/api/session", { payload }, null);
    session = body.session;
    sessionExpiresAt = Date.parse(body.expires_at) || Date.now() + 30 * 60 * 1000;
    window.clearTimeout(renewTimer);
    renewTimer = window.setTimeout(renewQuietly, Math.max(sessionExpiresAt - Date.now() - RENEW_BEFORE_MS, 10000));
  }
  function renew() {
    if (!renewing) renewing = openSession().finally(() => { renewing = null; });
    return renewing;
  }
  async function renewQuietly() {
    try {
      await renew();
    } catch (error) {
      showAlert(error.message);
    }
  }

  async function call(method, path, body, token) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    let answer;
    try {
      answer = await window.fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (error) {
      throw new ApiError("We could not reach the app. Check your internet connection and try again.", "network", 0);
    }
    let data = null;
    try {
      data = await answer.json();
    } catch (error) {
      data = null;
    }
    if (answer.ok) return data || {};
    const problem = data && data.error;
    if (problem && problem.message) throw new ApiError(problem.message, problem.code, answer.status, problem.fields);
    if (answer.status >= 500) {
      throw new ApiError("Something went wrong on our side. Try again in a minute.", "server_error", answer.status);
    }
    throw new ApiError("That did not work. Reload the page and try again.", "unexpected", answer.status);
  }

  async function api(method, path, body) {
    if (!session || Date.now() > sessionExpiresAt - 30000) await renew();
    try {
      return await call(method, path, body, session);
    } catch (error) {
      if (error.httpStatus !== 401) throw error;
      await renew(); // expired meanwhile: a fresh session, and the same request once more
      return call(method, path, body, session);
    }
  }

  // -- small helpers ----------------------------------------------------------------------------
  function show(id, visible) {
    byId(id).hidden = !visible;
  }
  function setText(id, text) {
    byId(id).textContent = text;
  }
  function say(id, text, isError) {
    const element = byId(id);
    element.textContent = text || "";
    element.classList.toggle("tt-error", Boolean(isError));
  }
  function announce(text) {
    const element = byId("announce");
    element.textContent = "";
    window.setTimeout(() => { element.textContent = text; }, 50);
  }
  function showAlert(text) {
    const alert = byId("alert");
    alert.textContent = text;
    alert.hidden = false;
    resize();
  }
  function hideAlert() {
    byId("alert").hidden = true;
  }
  function showInfo(text) {
    setText("info", text);
    show("info", Boolean(text));
  }
  function busy(button, on) {
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }
  function formatTime(iso) {
    // The API's times are ISO 8601 in UTC; the merchant reads them in the browser's time zone, which is named.
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    return date.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short",
    });
  }
  function newTabLink(text, href, label) {
    const link = document.createElement("a");
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = text;
    link.setAttribute("aria-label", `${label || text} (opens in a new tab)`);
    return link;
  }
  function businessCenterUrl() {
    return (status && status.tiktok && status.tiktok.business_center_url) || TIKTOK_BUSINESS_URL;
  }
  function connectStartedHere() {
    // The phone is kept in this tab only once a connect went to TikTok from here (see the connect form).
    try {
      return Boolean(window.sessionStorage.getItem(PHONE_KEY));
    } catch {
      return false;
    }
  }
  // A country ("region") or currency by its English name, its code beside it: "Brazil (BR)", "Brazilian Real (BRL)".
  function displayName(type, code) {
    if (!code) return "Not set in your Ecwid store";
    try {
      const name = new Intl.DisplayNames(["en"], { type }).of(code);
      return name && name !== code ? `${name} (${code})` : code;
    } catch (error) {
      return code;
    }
  }
  function goToTikTok(url, messageId) {
    // TikTok's pages refuse to load in a frame: the whole window goes there, and TikTok brings the merchant back.
    const link = document.createElement("a");
    link.href = url;
    link.target = "_top";
    link.textContent = "open TikTok For Business";
    const message = byId(messageId);
    message.classList.remove("tt-error");
    message.replaceChildren("Opening TikTok For Business… If nothing happens, ", link, ".");
    try {
      window.top.location.href = url;
    } catch (error) {
      window.open(url, "_blank", "noopener");
    }
  }

  // -- the store status -------------------------------------------------------------------------
  async function refresh() {
    window.clearTimeout(pollTimer);
    try {
      render(await api("GET", base));
      if (status && status.status === "connected") await loadPixel();
      if (alertFromRefresh) hideAlert();
      alertFromRefresh = false;
    } catch (error) {
      showAlert(error.message);
      alertFromRefresh = true;
    } finally {
      schedule();
    }
  }
  function schedule() {
    window.clearTimeout(pollTimer);
    const check = status && status.tiktok_counts && status.tiktok_counts.check;
    const checking = Boolean(check && check.state !== "done");
    const active = status
      && (status.sync.state !== "idle" || status.storefront.state === "connecting" || checking);
    pollTimer = window.setTimeout(refresh, active ? 2000 : 30000);
  }

  function render(next) {
    const previous = status;
    status = next;
    show("loading", false);
    const eligibility = next.eligibility;
    const tiktok = next.tiktok || null;
    const connected = next.status === "connected";
    const reconnect = next.status === "reconnect_needed";
    const eligible = Boolean(eligibility.catalog_allowed);
    // A store TikTok does not accept gets no connect form: its reason says what to change in Ecwid instead.
    const canConnect = eligible && ["installed", "disconnected", "reconnect_needed"].includes(next.status);
    // Back from TikTok after a connect started in this tab, or connected while this tab watched: said once.
    const justConnected = connected
      && (previous ? previous.status !== "connected" : connectStartedHere());

    renderNotice(next);

    show("eligibility", true);
    setText("el-country", displayName("region", eligibility.country));
    setText("el-currency", displayName("currency", eligibility.currency));
    setText("el-catalog", eligible ? "Available" : "Not available");
    setText("el-shopping", eligibility.shopping_allowed ? "Available" : "Not available: US and UK stores only");
    setText("el-reason", eligibility.reason || "");
    show("el-reason", Boolean(eligibility.reason));

    show("connect", canConnect);
    setText("connect-title", reconnect ? "Reconnect TikTok For Business" : "Connect TikTok For Business");
    setText("connect-button", reconnect ? "Reconnect" : "+ Connect TikTok Account");
    setText("connect-currency", eligibility.currency ? `(${eligibility.currency})` : "");
    byId("connect-button").disabled = !eligible;

    show("business", Boolean(tiktok));
    if (tiktok) {
      show("bc", Boolean(tiktok.business_center_url));
      if (tiktok.business_center_url) byId("bc-link").href = tiktok.business_center_url;
      // Named as the merchant knows them; TikTok's ids second, for a conversation with TikTok's support.
      const currency = tiktok.catalog_currency ? ` (${tiktok.catalog_currency})` : "";
      setText("catalog", tiktok.catalog_id ? `Catalog${currency}` : "Being created");
      setText("catalog-id", tiktok.catalog_id ? `ID ${tiktok.catalog_id}` : "");
      setText("pixel", tiktok.pixel_code ? "TikTok Pixel" : "–");
      setText("pixel-id", tiktok.pixel_code ? `ID ${tiktok.pixel_code}` : "");
      byId("manage-link").href = businessCenterUrl();
    }

    show("products", Boolean(tiktok));
    for (const key of STATUSES) setText(`count-${key}`, String(next.products[key] || 0));
    const counts = JSON.stringify(next.products);
    if (listStatus && lastCounts !== null && counts !== lastCounts) openList(listStatus, false);
    lastCounts = counts;

    show("cat", connected);
    if (connected && categories === null) loadCategories();
    if (!connected) categories = null;

    show("sync", Boolean(tiktok));
    renderSync(next.sync, connected);
    renderHealth(next, connected);
    // The "Sync finished" line holds only for the status it was written for: later edits or reviews clear it.
    const fingerprint = JSON.stringify([next.status, next.products, next.sync.last_finished_at, next.sync.state]);
    if (finishedShownFor === "") finishedShownFor = fingerprint;
    else if (finishedShownFor !== null && finishedShownFor !== fingerprint) {
      finishedShownFor = null;
      say("sync-message", "");
    }

    // TikTok Shopping only where TikTok offers it (or where the store already has an application or a storefront).
    const shopping = Boolean(eligibility.shopping_allowed)
      || !["not_applied", undefined].includes(next.storefront.state);
    show("storefront", connected && shopping);
    if (connected && storefrontShown !== next.storefront.state) {
      storefrontShown = next.storefront.state;
      loadStorefront();
    }
    if (!connected) storefrontShown = null;

    // The pixel comes with the connection: nothing of it before (the connect section says so in one line).
    show("px", connected);
    if (!connected) {
      pixelAsked += 1; // an answer still on its way is for a store no longer connected
      say("px-message", "");
    }

    show("disconnect", Boolean(tiktok) || connected);
    if (justConnected) {
      showInfo(CONNECTED_TEXT);
      announce(CONNECTED_TEXT);
    }
    resize();
  }

  function renderNotice(next) {
    const notice = next.notice
      || (next.status === "ecwid_access_lost"
        ? { code: "ecwid_access_lost", message: "Reinstall the app from the Ecwid App Market to resume syncing." }
        : null);
    show("notice", Boolean(notice));
    if (!notice) return;
    setText("notice-title", NOTICE_TITLES[notice.code] || "Your catalog is not syncing");
    setText("notice-message", notice.message);
    show("notice-reconnect", next.status === "reconnect_needed" && Boolean(next.eligibility.catalog_allowed));
  }

  function renderSync(sync, connected) {
    setText("sync-last", sync.last_finished_at ? formatTime(sync.last_finished_at) : "Not yet");
    setText("sync-result", sync.last_result || "–");
    setText("sync-next", sync.next_at ? formatTime(sync.next_at) : "–");
    setText("sync-reviews", sync.reviews_checked_at ? formatTime(sync.reviews_checked_at) : "Not yet");
    const active = sync.state === "queued" || sync.state === "running";
    show("sync-progress", active);
    const bar = byId("sync-bar");
    if (active) {
      const waiting = Boolean(sync.retry_at);
      setText(
        "sync-label",
        waiting
          ? `Waiting since ${formatTime(sync.waiting_since)}; trying again at ${formatTime(sync.retry_at)}`
          : sync.state === "queued" ? "Sync starting" : "Syncing products",
      );
      if (sync.total > 0) {
        bar.max = sync.total;
        bar.value = Math.min(sync.done, sync.total);
        // The API counts SKUs: a product's variations are one each.
        setText("sync-count", `${Math.min(sync.done, sync.total)} of ${sync.total} products and variations`);
      } else {
        bar.removeAttribute("value");
        setText("sync-count", "");
      }
    }
    byId("sync-button").disabled = !connected || active;
    if (lastSyncState && lastSyncState !== "idle" && sync.state === "idle") {
      const text = `Sync finished. ${sync.last_result || ""}`.trim();
      say("sync-message", text);
      announce(text);
      finishedShownFor = ""; // the status this render shows: set by render()
    }
    lastSyncState = sync.state;
  }

  // -- product lists ----------------------------------------------------------------------------
  async function openList(key, focus) {
    if (key !== listStatus) {
      selected.clear();
      say("steer-message", "");
    }
    listStatus = key;
    listCursor = null;
    const steerable = STEERABLE.includes(key) && Boolean(status && status.status === "connected");
    show("steer", steerable);
    // In the list of products kept off, the switch brings them back; in every other list it keeps them off.
    show("keep-off", key !== "kept_off");
    show("show-on", key === "kept_off");
    for (const button of document.querySelectorAll(".tt-count")) {
      button.setAttribute("aria-pressed", button.dataset.status === key ? "true" : "false");
    }
    show("list", true);
    setText("list-title", LISTS[key].title);
    setText("list-help", LISTS[key].help);
    byId("list-items").replaceChildren();
    show("list-empty", false);
    show("list-more", false);
    await loadMore(key);
    if (focus) byId("list-title").focus();
  }

  async function loadMore(key) {
    const query = new URLSearchParams({ status: key });
    if (listCursor) query.set("cursor", listCursor);
    let page;
    try {
      page = await api("GET", `${base}/products?${query}`);
    } catch (error) {
      say("list-help", error.message, true);
      return;
    }
    if (key !== listStatus) return; // another list was opened meanwhile
    const list = byId("list-items");
    if (!listCursor) list.replaceChildren(); // a first page: what an earlier load of this list left goes
    for (const item of page.items) list.append(productItem(item, key));
    if (!listCursor) {
      // Reloaded (the counts moved): a selected product no longer in the list is no longer selected.
      const shown = new Set(shownProductIds());
      for (const id of [...selected]) if (!shown.has(id)) selected.delete(id);
    }
    listCursor = page.next_cursor || null;
    renderSelection();
    show("list-more", Boolean(listCursor));
    show("list-empty", list.children.length === 0);
    resize();
  }

  function productItem(item, key) {
    const li = document.createElement("li");
    const body = productBody(item);
    const id = Number(item.product_id);
    if (!STEERABLE.includes(key) || !Number.isInteger(id) || byId("steer").hidden) {
      li.append(...body.childNodes);
      return li;
    }
    const name = item.title || `product ${item.product_id}`;
    li.className = "tt-row";
    li.dataset.productId = String(id);
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "tt-row-check";
    box.dataset.productId = String(id);
    box.checked = selected.has(id);
    box.setAttribute("aria-label", `Select ${name}${item.sku_id && String(item.sku_id) !== String(id)
      ? ` (SKU ${item.sku_id})` : ""}`);
    box.addEventListener("change", () => {
      if (box.checked) selected.add(id);
      else selected.delete(id);
      renderSelection();
    });
    const showing = key === "kept_off";
    const quick = document.createElement("button");
    quick.type = "button";
    quick.className = "tt-row-action";
    quick.textContent = showing ? "Show on TikTok" : "Keep off TikTok";
    quick.setAttribute("aria-label", showing ? `Show ${name} on TikTok` : `Keep ${name} off TikTok`);
    quick.addEventListener("click", () => switchProducts([id], showing, quick));
    body.className = "tt-row-body";
    body.append(quick);
    li.append(box, body);
    return li;
  }

  function productBody(item) {
    const li = document.createElement("div");
    const title = document.createElement("span");
    title.className = "tt-item-title";
    title.textContent = item.title || `Product ${item.product_id}`;
    const sku = document.createElement("span");
    sku.className = "tt-muted";
    sku.textContent = ` · SKU ${item.sku_id}`;
    li.append(title, sku);
    if (item.brand_from_store_name) {
      const brand = document.createElement("p");
      brand.className = "tt-muted tt-brand";
      brand.textContent =
        "Brand sent to TikTok: your store name, since this product has no Brand attribute in Ecwid. " +
        "Add one to the product if it sells under its own brand.";
      li.append(brand);
    }
    for (const reason of item.reasons || []) {
      const why = document.createElement("p");
      why.className = "tt-reason";
      why.textContent = `Reason: ${reason.message}`;
      const todo = document.createElement("p");
      todo.className = "tt-todo";
      todo.textContent = `What to do: ${reason.suggestion || WHAT_TO_DO[item.status] || WHAT_TO_DO.held_back}`;
      li.append(why, todo);
    }
    li.append(...fixLinks(item));
    return li;
  }

  // Where the merchant fixes a product: its page in the Ecwid admin; for a rejection also TikTok's Catalog Manager
  // (to appeal) and TikTok's policies.
  function fixLinks(item) {
    if (!["rejected", "held_back", "excluded"].includes(item.status)) return [];
    const name = item.title || `product ${item.product_id}`;
    const links = document.createElement("ul");
    links.className = "tt-links";
    const add = (link) => {
      const li = document.createElement("li");
      li.append(link);
      links.append(li);
    };
    if (item.product_id) {
      add(newTabLink("Edit in Ecwid", ecwidProductUrl(item.product_id), `Edit ${name} in your Ecwid admin`));
    }
    if (item.status === "rejected") {
      add(newTabLink("Appeal in TikTok’s Catalog Manager", businessCenterUrl(),
        `Appeal the rejection of ${name} in TikTok’s Catalog Manager`));
      add(newTabLink("TikTok’s advertising policies", TIKTOK_POLICIES_URL));
    }
    const result = [links];
    if (item.status === "rejected") {
      const appeal = document.createElement("p");
      appeal.className = "tt-help";
      appeal.textContent = "To appeal: in your Business Center open Assets → Catalogs, your catalog’s "
        + "Catalog Manager, Manage → Products, filter Rejected, click Rejected beside the product, then Appeal. "
        + "Each product can be appealed once a month.";
      result.push(appeal);
    }
    return result;
  }


  // -- "Show on TikTok": the merchant's switch for products and categories --------------------------
  function shownProductIds() {
    const ids = [];
    for (const box of byId("list-items").querySelectorAll(".tt-row-check")) {
      const id = Number(box.dataset.productId);
      if (!ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  function plural(count, one, many) {
    return `${count.toLocaleString()} ${count === 1 ? one : many}`;
  }

  function renderSelection() {
    const shown = shownProductIds();
    for (const box of byId("list-items").querySelectorAll(".tt-row-check")) {
      box.checked = selected.has(Number(box.dataset.productId));
    }
    const chosen = shown.filter((id) => selected.has(id)).length;
    const all = byId("select-all");
    all.checked = shown.length > 0 && chosen === shown.length;
    all.indeterminate = chosen > 0 && chosen < shown.length;
    all.disabled = shown.length === 0 || switching;
    const none = selected.size === 0;
    byId("keep-off").disabled = none || switching;
    byId("show-on").disabled = none || switching;
    const showing = listStatus === "kept_off";
    setText("steer-hint", none
      ? `Select products (or Select all shown) to ${showing ? "show them on TikTok again" : "keep them off TikTok"}.`
      : `${plural(selected.size, "product", "products")} selected, each with all its variations.`);
    resize();
  }

  byId("select-all").addEventListener("change", () => {
    const on = byId("select-all").checked;
    for (const id of shownProductIds()) {
      if (on) selected.add(id);
      else selected.delete(id);
    }
    renderSelection();
  });
  byId("keep-off").addEventListener("click", () => switchProducts([...selected], false, byId("keep-off")));
  byId("show-on").addEventListener("click", () => switchProducts([...selected], true, byId("show-on")));

  function switchedText(count, show) {
    if (count === 0) {
      return show ? "Nothing changed: those products were not kept off by you."
        : "Nothing changed: those products were already kept off TikTok.";
    }
    const products = plural(count, "product", "products");
    return show ? `${products} will come back to TikTok within a minute (TikTok reviews them again).`
      : `${products} will leave TikTok within a minute.`;
  }

  // One PUT per 500 products; what went through is said even when a later part fails.
  async function switchProducts(ids, show, button) {
    if (!ids.length || switching) return;
    switching = true;
    busy(button, true);
    renderSelection();
    say("steer-message", show ? "Showing on TikTok…" : "Keeping off TikTok…");
    let updated = 0;
    let sent = 0;
    try {
      for (let start = 0; start < ids.length; start += MAX_PER_SWITCH) {
        const part = ids.slice(start, start + MAX_PER_SWITCH);
        const answer = await api("PUT", `${base}/products/visibility`, { product_ids: part, show });
        updated += Number(answer.updated) || 0;
        sent += part.length;
        markSwitched(part, show);
      }
      const text = switchedText(updated, show);
      say("steer-message", text);
      announce(text);
      for (const id of ids) selected.delete(id);
      refreshSoon();
    } catch (error) {
      const done = sent ? `${switchedText(updated, show)} The other ${plural(ids.length - sent, "product was",
        "products were")} not switched: ` : "";
      say("steer-message", `${done}${error.message}`, true);
      if (sent) refreshSoon();
    } finally {
      switching = false;
      busy(button, false);
      renderSelection();
    }
  }

  // Until the lists reload, each switched row says what happens to it.
  function markSwitched(ids, show) {
    const wanted = new Set(ids);
    for (const row of byId("list-items").querySelectorAll("li.tt-row")) {
      if (!wanted.has(Number(row.dataset.productId)) || row.querySelector(".tt-row-note")) continue;
      const note = document.createElement("p");
      note.className = "tt-row-note";
      note.textContent = show ? "Coming back to TikTok" : "Leaving TikTok";
      row.querySelector(".tt-row-body").append(note);
      for (const control of row.querySelectorAll("button")) control.disabled = true;
    }
  }

  function refreshSoon() {
    for (const timer of switchRefreshTimers) window.clearTimeout(timer);
    switchRefreshTimers = REFRESH_AFTER_SWITCH_MS.map((ms) => window.setTimeout(() => {
      refresh();
      loadCategories();
    }, ms));
  }

  async function loadCategories() {
    const asked = ++categoriesAsked;
    try {
      const answer = await api("GET", `${base}/categories`);
      if (asked !== categoriesAsked) return;
      categories = answer.items || [];
      renderCategories();
    } catch (error) {
      if (asked !== categoriesAsked) return;
      if (categories === null) categories = [];
      say("cat-message", `We could not load your categories: ${error.message}`, true);
    }
  }

  // "Parent › Child", so a subcategory is told apart from another of the same name.
  function categoryPath(category, byKey) {
    const names = [category.name || `Category ${category.id}`];
    let parent = byKey.get(category.parent_id);
    for (let depth = 0; parent && depth < 10; depth += 1) {
      names.unshift(parent.name || `Category ${parent.id}`);
      parent = byKey.get(parent.parent_id);
    }
    return names.join(" › ");
  }

  function renderCategories() {
    const select = byId("cat-select");
    const before = select.value;
    const byKey = new Map(categories.map((category) => [category.id, category]));
    const options = categories
      .map((category) => ({ category, path: categoryPath(category, byKey) }))
      .sort((a, b) => a.path.localeCompare(b.path));
    const first = document.createElement("option");
    first.value = "";
    first.textContent = categories.length ? "Choose a category" : "Your store has no categories";
    select.replaceChildren(first, ...options.map(({ category, path }) => {
      const option = document.createElement("option");
      option.value = String(category.id);
      const notes = [];
      if (category.hidden) notes.push("hidden in Ecwid");
      if (category.kept_off) notes.push("kept off TikTok by you");
      option.textContent = notes.length ? `${path} (${notes.join("; ")})` : path;
      return option;
    }));
    if (before && byKey.has(Number(before))) select.value = before;
    renderCategoryChoice();
  }

  function chosenCategory() {
    const id = Number(byId("cat-select").value);
    return (categories || []).find((category) => category.id === id) || null;
  }

  function renderCategoryChoice() {
    const category = chosenCategory();
    let text = "";
    if (category && category.kept_off) {
      text = "You keep this category’s products off TikTok, and products you add to it later too.";
    } else if (category && category.hidden) {
      text = "Hidden in your Ecwid store: its products are off TikTok already, unless they are also in a shown "
        + "category. Keeping it off as well keeps them off if you show it in Ecwid later.";
    } else if (category) {
      text = "Its products go to TikTok.";
    }
    setText("cat-state", text);
    byId("cat-off").disabled = !category || category.kept_off;
    byId("cat-on").disabled = !category || !category.kept_off;
    resize();
  }
  byId("cat-select").addEventListener("change", () => {
    say("cat-message", "");
    renderCategoryChoice();
  });

  async function switchCategory(show) {
    const category = chosenCategory();
    if (!category) return;
    const button = byId(show ? "cat-on" : "cat-off");
    const name = `“${category.name}”`;
    busy(button, true);
    say("cat-message", show ? "Showing on TikTok…" : "Keeping off TikTok…");
    try {
      const answer = await api("PUT", `${base}/products/visibility`, { category_id: category.id, show });
      const count = Number(answer.updated) || 0;
      const products = plural(count, "product", "products");
      const text = show
        ? `${name} is shown on TikTok again: its ${products} come back within a minute, except those you keep off `
          + "one by one or that are only in hidden categories."
        : `${name} is kept off TikTok: its ${products} leave TikTok within a minute (those also in a shown `
          + "category stay), and products you add to it later stay off.";
      say("cat-message", text);
      announce(text);
      category.kept_off = !show;
      renderCategories();
      refreshSoon();
    } catch (error) {
      say("cat-message", error.message, true);
    } finally {
      busy(button, false);
      renderCategoryChoice();
    }
  }
  byId("cat-off").addEventListener("click", () => switchCategory(false));
  byId("cat-on").addEventListener("click", () => switchCategory(true));

  // -- the sync's health and TikTok's own counts ----------------------------------------------------
  function relativeTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return "";
    const seconds = (date.getTime() - Date.now()) / 1000;
    const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
    try {
      const words = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
      for (const [unit, size] of units) {
        if (Math.abs(seconds) >= size) return words.format(Math.round(seconds / size), unit);
      }
      return words.format(0, "minute");
    } catch (error) {
      return "";
    }
  }
  // "5 minutes ago (May 1, 2026, 6:02 AM UTC)": relative first, the time itself beside it.
  function whenText(iso) {
    const relative = relativeTime(iso);
    return relative ? `${relative} (${formatTime(iso)})` : formatTime(iso);
  }

  function renderHealth(next, connected) {
    const sync = next.sync || {};
    show("health", connected);

    const stalled = connected && Boolean(sync.stalled);
    show("stalled", stalled);
    if (stalled) {
      setText("stalled-message", sync.stall_message || "Your sync has not moved for a while.");
      const times = [];
      if (sync.stalled_since) times.push(`No progress since ${whenText(sync.stalled_since)}.`);
      if (sync.restart_at) {
        times.push(`From ${formatTime(sync.restart_at)} it is taken as lost: Sync Products or the next scheduled `
          + "sync starts it afresh.");
      }
      setText("stalled-times", times.join(" "));
    }
    byId("stalled-sync").disabled = !connected;

    const waiting = Number(sync.waiting_edits) || 0;
    setText("health-waiting", waiting ? plural(waiting, "edit", "edits") : "None");
    show("health-waiting-text", waiting > 0);
    if (waiting) {
      const since = sync.oldest_waiting_at ? ` The oldest has waited since ${whenText(sync.oldest_waiting_at)}.` : "";
      setText("health-waiting-text", `Changes from your Ecwid store that have not reached TikTok yet: they are kept `
        + `and sent as soon as TikTok takes them.${since}`);
    }
    const paused = sync.paused_until && Date.parse(sync.paused_until) > Date.now() ? sync.paused_until : null;
    show("health-paused", Boolean(paused));
    if (paused) {
      setText("health-paused", `TikTok asked us to wait until ${formatTime(paused)} (${relativeTime(paused)}): it `
        + "limits how often apps may call it. Nothing you change is lost; your edits go to TikTok then.");
    }

    const counts = next.tiktok_counts || null;
    const read = Boolean(counts && counts.checked_at);
    show("counts-none", !read);
    show("counts-table", read);
    const products = next.products || {};
    const ours = {
      listed: Number(products.listed) || 0,
      pending: Number(products.pending) || 0,
      rejected: Number(products.rejected) || 0,
    };
    if (read) {
      const theirs = {
        approved: Number(counts.approved) || 0,
        processing: Number(counts.processing) || 0,
        rejected: Number(counts.rejected) || 0,
      };
      setText("counts-caption", `TikTok’s counts as read ${whenText(counts.checked_at)}; this app’s as they stand now.`);
      setText("tt-approved", theirs.approved.toLocaleString());
      setText("tt-processing", theirs.processing.toLocaleString());
      setText("tt-rejected", theirs.rejected.toLocaleString());
      setText("tt-total", (theirs.approved + theirs.processing + theirs.rejected).toLocaleString());
      setText("our-listed", ours.listed.toLocaleString());
      setText("our-pending", ours.pending.toLocaleString());
      setText("our-rejected", ours.rejected.toLocaleString());
      setText("our-total", (ours.listed + ours.pending + ours.rejected).toLocaleString());
    }
    const mismatch = connected && Boolean(counts && counts.mismatch);
    show("mismatch", mismatch);
    if (mismatch) {
      const theirTotal = (Number(counts.approved) || 0) + (Number(counts.processing) || 0)
        + (Number(counts.rejected) || 0);
      const ourTotal = counts.ours !== undefined ? Number(counts.ours) : ours.listed + ours.pending + ours.rejected;
      setText("mismatch-text", `TikTok and this app do not agree: TikTok counts ${plural(theirTotal,
        "product or variation", "products and variations")} in your catalog, this app ${ourTotal.toLocaleString()}, `
        + "at two checks in a row. Click Check with TikTok: the app reads every product’s status from TikTok and "
        + "corrects its records.");
    }
    const check = byId("check-button");
    check.classList.toggle("btn-primary", mismatch);
    check.classList.toggle("tt-secondary", !mismatch);
    check.classList.toggle("btn-default", !mismatch);
    show("check-button", connected);
    show("check-help", connected);
    renderCheck(counts && counts.check, connected);
  }

  function renderCheck(job, connected) {
    const button = byId("check-button");
    const working = Boolean(job && job.state !== "done");
    if (button.getAttribute("aria-busy") !== "true") button.disabled = !connected || working;
    if (!job) return;
    let text;
    if (job.state === "queued") text = "Check with TikTok: queued, it starts in a moment.";
    else if (job.state === "running") text = "Checking with TikTok: reading every product’s status…";
    else {
      const corrected = Number(job.corrected) || 0;
      const when = job.finished_at ? ` ${whenText(job.finished_at)}` : "";
      text = corrected
        ? `Checked with TikTok${when}: ${plural(corrected, "record", "records")} corrected to what TikTok holds.`
        : `Checked with TikTok${when}: everything matched, nothing to correct.`;
    }
    const message = byId("check-message");
    if (message.textContent !== text) {
      say("check-message", text);
      if (job.state === "done" && lastCheckState && lastCheckState !== "done") announce(text);
    }
    lastCheckState = job.state;
  }

  byId("check-button").addEventListener("click", async () => {
    const button = byId("check-button");
    busy(button, true);
    say("check-message", "Asking TikTok…");
    try {
      const answer = await api("POST", `${base}/reviews/check`);
      lastCheckState = answer.state || "queued";
      const text = "Check with TikTok started: the app reads every product’s status from TikTok and corrects its "
        + "records. It takes a minute or so.";
      say("check-message", text);
      announce(text);
    } catch (error) {
      say("check-message", error.message, true);
    } finally {
      button.setAttribute("aria-busy", "false");
      await refresh();
    }
  });

  // -- the pixel ----------------------------------------------------------------------------------
  async function loadPixel() {
    if (pixelSaving) return; // the switch's answer is on its way and says the same
    const asked = ++pixelAsked;
    try {
      const answer = await api("GET", `${base}/pixel`);
      if (asked !== pixelAsked) return;
      show("px-load-error", false);
      renderPixel(answer);
    } catch (error) {
      if (asked !== pixelAsked) return;
      setText("px-load-error", `We could not load your pixel’s status: ${error.message}`);
      show("px-load-error", true);
      resize();
    }
  }

  function renderPixel(pixel) {
    const missing = pixel.missing_scopes || [];
    const ours = pixel.pixel_code || null;
    setText("px-code", ours || "Not set up yet");
    setText("px-purchases", String(pixel.purchases_sent_24h || 0));

    const storefrontBlocked = missing.some((scope) => STOREFRONT_SCOPES.includes(scope));
    // "Press Grant access" answered already: the next sync clears that failure, and the page no longer repeats it.
    const failure = pixel.last_error && !(pixel.last_error.code === "storefront_scope_missing" && !storefrontBlocked)
      ? pixel.last_error : null;
    let label;
    let text;
    if (pixel.storefront_script === "installed") {
      label = "Installed";
      text = "Your TikTok pixel runs on your storefront for shoppers who accept tracking cookies.";
    } else if (pixel.storefront_script === "store_pixel_active") {
      const theirs = pixel.store_pixel_code || "";
      label = "Your store’s own pixel";
      if (theirs && ours && theirs === ours) {
        text = `Your store’s own TikTok pixel setting fires this same pixel (code ${theirs}) on your storefront, so `
          + "the app does not add it a second time and leaves the purchases in shoppers’ browsers to it.";
      } else {
        text = `Your store’s own TikTok pixel setting (code ${theirs || "not shown"}) already fires on your `
          + "storefront, so the app does not add a second one. To measure with the connected pixel"
          + `${ours ? ` ${ours}` : ""}, turn off the TikTok pixel in Ecwid’s settings (Settings → General → `
          + "Tracking & Analytics); the app adds its pixel at the next sync.";
      }
    } else {
      label = "Not installed";
      if (!ours) {
        text = "TikTok has not given your connection a pixel yet. Reconnect TikTok and create or choose a pixel "
          + "in the Data Sharing step.";
      } else if (storefrontBlocked) {
        text = "The app needs your permission to add the pixel to your storefront: click Grant access below.";
      } else if (failure) {
        text = "The last attempt to add it did not work (see below). The app tries again at the next sync; "
          + "click Sync Products to try now.";
      } else {
        text = "The pixel is added to your storefront at the next sync of your catalog. Click Sync Products to "
          + "add it now.";
      }
    }
    setText("px-script", label);
    setText("px-script-text", text);

    show("px-scopes", missing.length > 0);
    if (missing.length) {
      const abilities = [...new Set(missing.map((scope) => SCOPE_ABILITIES[scope] || scope))];
      setText("px-scopes-text", "Your Ecwid store has not given the app access for this part of the pixel:");
      byId("px-scopes-list").replaceChildren(...abilities.map((ability) => {
        const li = document.createElement("li");
        li.textContent = ability;
        return li;
      }));
      const grant = byId("px-grant");
      show("px-grant", Boolean(pixel.grant_access_url));
      show("px-grant-help", Boolean(pixel.grant_access_url));
      if (pixel.grant_access_url) grant.href = pixel.grant_access_url;
    }

    const on = Boolean(pixel.server_events);
    const toggle = byId("px-server");
    toggle.checked = on;
    setText("px-server-state", on ? "On" : "Off");
    let note = "";
    if (on && missing.includes("read_orders")) {
      note = "No purchases are sent from the server until you grant the app access to read your orders.";
    } else if (!on) {
      note = "Off: purchases reach TikTok only from shoppers’ browsers, for shoppers who accept tracking cookies.";
    }
    setText("px-server-note", note);
    byId("px-server-note").className = on ? "tt-warning" : "tt-help";
    show("px-server-note", Boolean(note));

    show("px-last-error", Boolean(failure));
    if (failure) {
      const when = failure.at ? ` (${formatTime(failure.at)})` : "";
      const order = failure.order_id ? ` Order ${failure.order_id}.` : "";
      setText("px-last-error", `Last problem${when}: ${failure.message}${order}`);
    }
    resize();
  }

  // The switch keeps the focus while it saves (a disabled control would drop it): each change is sent, and only
  // the answer to the latest one is shown.
  byId("px-server").addEventListener("change", async () => {
    const toggle = byId("px-server");
    const wanted = toggle.checked;
    pixelSaving += 1;
    const asked = ++pixelAsked;
    toggle.setAttribute("aria-busy", "true");
    setText("px-server-state", wanted ? "On" : "Off");
    say("px-message", "Saving…");
    try {
      const answer = await api("PUT", `${base}/pixel`, { server_events: wanted });
      if (asked !== pixelAsked) return;
      renderPixel(answer);
      say("px-message", answer.server_events
        ? "Saved: the app sends purchases to TikTok from the server from now on."
        : "Saved: the app no longer sends purchases to TikTok from the server.");
    } catch (error) {
      if (asked !== pixelAsked) return;
      toggle.checked = !wanted; // nothing changed
      setText("px-server-state", toggle.checked ? "On" : "Off");
      say("px-message", `Not saved: ${error.message}`, true);
    } finally {
      pixelSaving -= 1;
      if (!pixelSaving) toggle.setAttribute("aria-busy", "false");
      resize();
    }
  });

  // -- TikTok Shopping --------------------------------------------------------------------------
  async function loadStorefront() {
    try {
      renderStorefront(await api("GET", `${base}/storefront`));
      say("sf-message", "");
    } catch (error) {
      say("sf-message", error.message, true);
    }
  }

  function renderStorefront(storefront) {
    const state = storefront.state;
    storefrontState = state;
    const submitted = storefront.application && storefront.application.submitted_at;
    const label = STOREFRONT_STATES[state] || state;
    setText("sf-state", state === "submitted" && submitted ? `${label} on ${formatTime(submitted)}` : label);
    setText("sf-next", storefront.next_step || "");
    const note = storefront.decision && storefront.decision.note;
    setText("sf-note", note ? `TikTok’s note: ${note}` : "");
    show("sf-note", Boolean(note) && state === "rejected");
    const allowed = Boolean(status && status.eligibility.shopping_allowed);
    const canApply = allowed && (state === "not_applied" || state === "rejected");
    show("sf-onboarded", canApply); // said before the merchant fills in the form
    if (!canApply) show("sf-form", false);
    show("sf-apply", canApply && byId("sf-form").hidden);
    show("sf-connect", state === "approved" || state === "connecting");
    resize();
  }

  function applicationData() {
    const data = { business_address: {}, product_categories: [] };
    for (const element of byId("sf-form").elements) {
      const name = element.name;
      if (!name) continue;
      if (name === "product_categories") {
        if (element.checked) data.product_categories.push(element.value);
      } else if (name === "agrees_to_commerce_policies") {
        data[name] = element.checked;
      } else if (name.startsWith("business_address.")) {
        data.business_address[name.slice("business_address.".length)] = element.value.trim();
      } else {
        data[name] = element.value.trim();
      }
    }
    return data;
  }

  function clearFieldErrors(form) {
    for (const element of form.querySelectorAll(".tt-field-error")) {
      element.textContent = "";
      element.hidden = true;
    }
    for (const element of form.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
  }

  function fieldError(form, name, message, errorId) {
    const target = byId(errorId) || byId("sf-business_address-error");
    if (target) {
      target.textContent = message;
      target.hidden = false;
    }
    const inputs = form.querySelectorAll(`[name="${CSS.escape(name)}"]`);
    for (const input of inputs) input.setAttribute("aria-invalid", "true");
  }

  function labelFor(form, name) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!input) return name.startsWith("business_address") ? "Business address" : name;
    const fieldset = input.type === "checkbox" && input.closest("fieldset");
    if (fieldset && input.name === "product_categories") return fieldset.querySelector("legend").textContent.trim();
    return input.labels && input.labels.length ? input.labels[0].textContent.trim() : name;
  }

  function fieldAnchor(form, name) {
    return form.querySelector(`[name="${CSS.escape(name)}"]`) || byId(`sf-${name}-error`)
      || byId("sf-business_address-error");
  }
  function formOrder(form, a, b) {
    const first = fieldAnchor(form, a);
    const second = fieldAnchor(form, b);
    if (!first || !second || first === second) return 0;
    return first.compareDocumentPosition(second) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
  }
  // A US address needs a state; a UK one need not have a county.
  function markRegionRequired() {
    const region = byId("sf-region");
    const required = byId("sf-country").value === "US";
    region.required = required;
    region.setAttribute("aria-required", required ? "true" : "false");
  }
  byId("sf-country").addEventListener("change", markRegionRequired);
  markRegionRequired();

  function focusFirstInvalid(form) {
    const first = Array.from(form.elements).find((element) => element.getAttribute("aria-invalid") === "true");
    if (first) first.focus();
  }

  // -- the buttons ------------------------------------------------------------------------------
  byId("connect-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const button = byId("connect-button");
    clearFieldErrors(form);
    say("connect-message", "");
    const phone = byId("phone").value.trim();
    if (!phone) {
      fieldError(form, "phone", "Enter your mobile phone number with + and the country code, for example +14155550123.",
        "phone-error");
      byId("phone").focus();
      return;
    }
    busy(button, true);
    try {
      const answer = await api("POST", `${base}/connect`, { phone });
      try {
        window.sessionStorage.setItem(PHONE_KEY, phone);
      } catch {
        // storage refused (private mode, framed by a strict browser): the merchant types it again if needed
      }
      goToTikTok(answer.authorize_url, "connect-message");
    } catch (error) {
      if (error.code === "invalid_phone") {
        fieldError(form, "phone", error.message, "phone-error");
        byId("phone").focus();
      } else {
        say("connect-message", error.message, true);
      }
    } finally {
      busy(button, false);
    }
  });

  byId("notice-reconnect").addEventListener("click", () => {
    byId("phone").focus();
  });

  for (const button of document.querySelectorAll(".tt-count")) {
    button.addEventListener("click", () => openList(button.dataset.status, true));
  }
  byId("list-more").addEventListener("click", () => loadMore(listStatus));

  async function startSync(button, stalled) {
    busy(button, true);
    say("sync-message", "");
    finishedShownFor = null; // what this click says stays until the sync it started finishes
    try {
      await api("POST", `${base}/sync`);
      const text = stalled
        ? "Sync Products asked: a sync the app takes as lost starts afresh now; one not yet taken as lost goes on "
          + "as the message above says. You can leave this page."
        : "Sync started: your products are being sent to TikTok. You can leave this page.";
      say("sync-message", text);
      announce(text);
      lastSyncState = "queued";
    } catch (error) {
      say("sync-message", error.message, true);
    } finally {
      busy(button, false);
      await refresh();
    }
  }
  byId("sync-button").addEventListener("click", () => startSync(byId("sync-button")));
  // A stalled job: the same request (the API starts the sync afresh once the job is taken as lost).
  byId("stalled-sync").addEventListener("click", () => startSync(byId("stalled-sync"), true));

  byId("sf-apply").addEventListener("click", () => {
    show("sf-form", true);
    show("sf-apply", false);
    byId("sf-apply").setAttribute("aria-expanded", "true");
    byId("sf-form-title").focus();
    resize();
  });
  byId("sf-cancel").addEventListener("click", () => {
    // What the last submit said no longer applies: the form closes clean (the typed values stay).
    clearFieldErrors(byId("sf-form"));
    say("sf-message", "");
    show("sf-form", false);
    show("sf-apply", true);
    byId("sf-apply").setAttribute("aria-expanded", "false");
    byId("sf-apply").focus();
    resize();
  });
  byId("sf-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const button = byId("sf-submit");
    clearFieldErrors(form);
    say("sf-message", "");
    busy(button, true);
    try {
      const storefront = await api("POST", `${base}/storefront/application`, applicationData());
      show("sf-form", false);
      byId("sf-apply").setAttribute("aria-expanded", "false");
      storefrontShown = storefront.state;
      renderStorefront(storefront);
      const text = "Application submitted. TikTok answers by email, usually within two weeks.";
      say("sf-message", text);
      byId("storefront-title").focus();
    } catch (error) {
      // The summary names the fields in the order the form shows them.
      const fields = Object.entries(error.fields || {}).sort(([a], [b]) => formOrder(form, a, b));
      for (const [name, message] of fields) fieldError(form, name, message, `sf-${name}-error`);
      if (fields.length) {
        const labels = [...new Set(fields.map(([name]) => labelFor(form, name)))];
        say("sf-message", `Check ${labels.length === 1 ? "this field" : "these fields"}: ${labels.join(", ")}.`, true);
      } else {
        say("sf-message", error.message, true);
      }
      focusFirstInvalid(form);
    } finally {
      busy(button, false);
      resize();
    }
  });
  byId("sf-connect").addEventListener("click", async () => {
    const button = byId("sf-connect");
    busy(button, true);
    try {
      const answer = await api("POST", `${base}/storefront/connect`);
      goToTikTok(answer.authorize_url, "sf-message");
    } catch (error) {
      say("sf-message", error.message, true);
    } finally {
      busy(button, false);
    }
  });

  const dialog = byId("disconnect-dialog");
  byId("disconnect-open").addEventListener("click", () => {
    say("disconnect-message", "");
    // What happens to a storefront application: only said to a store that has one.
    show("disconnect-dialog-storefront", storefrontState !== "not_applied");
    dialog.showModal();
    byId("disconnect-cancel").focus();
  });
  byId("disconnect-cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (!byId("disconnect").hidden) byId("disconnect-open").focus();
  });
  byId("disconnect-confirm").addEventListener("click", async () => {
    const button = byId("disconnect-confirm");
    busy(button, true);
    try {
      const answer = await api("POST", `${base}/disconnect`);
      const text = answer.remote_cleanup === "pending"
        ? "TikTok is disconnected from your store. TikTok is slow to answer: the app removes your products from "
          + "the TikTok catalog and disconnects your TikTok profile in the background."
        : "TikTok is disconnected from your store and your products are removed from the TikTok catalog. You can "
          + "connect again at any time.";
      listStatus = null;
      show("list", false);
      showInfo(text);
      announce(text);
      await refresh();
      dialog.close();
      if (byId("connect").hidden) byId("info").focus();
      else byId("connect-title").focus();
    } catch (error) {
      dialog.close();
      say("disconnect-message", error.message, true);
    } finally {
      busy(button, false);
    }
  });

  function keepTypedPhone() {
    let kept = null;
    try {
      kept = window.sessionStorage.getItem(PHONE_KEY);
      // Once connected the phone is no longer needed here: it leaves the browser's storage.
      if (!byId("connect").hidden && kept && !byId("phone").value) byId("phone").value = kept;
      else if (byId("connect").hidden) window.sessionStorage.removeItem(PHONE_KEY);
    } catch {
      // no storage: nothing kept
    }
  }

  // -- start ------------------------------------------------------------------------------------
  (async () => {
    try {
      await openSession();
    } catch (error) {
      show("loading", false);
      showAlert(error.message);
      return;
    }
    await refresh();
    keepTypedPhone();
    if (returnedNotice) {
      const text = RETURN_NOTICES[returnedNotice] || "TikTok was not connected. Start again from this page.";
      showAlert(text);
      announce(text);
    }
  })();
})();
