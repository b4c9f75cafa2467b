"""The web UI: server-rendered pages (Jinja2), Simplified Chinese by default, English on request."""
