"""TikTok channel for Ecwid stores: the domain, its adapters and the HTTP glue shared by every function."""
