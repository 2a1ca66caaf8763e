"""The app the sandbox Ecwid's tests register: its client id and secret (the secret's first 16 characters are the
admin payload's key)."""

CLIENT_ID = "tiktok-channel-local"
SECRET = "0123456789abcdef-sandbox-secret"
