"""Every route of the web app, in one place."""

from __future__ import annotations

from aiohttp import web

from bot.web import views


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", views.index, name="index")
    app.router.add_get("/embed", views.embed, name="embed")
    app.router.add_get("/health", views.health, name="health")
    app.router.add_get("/widget.js", views.widget_loader, name="widget_loader")
    app.router.add_get("/static/{name}", views.static_asset, name="static")
    app.router.add_get("/api/history/{session_id}", views.history, name="history")
    app.router.add_post("/chat", views.chat, name="chat")
