"""The catalog: how an Ecwid product becomes the TikTok SKUs that represent it."""
