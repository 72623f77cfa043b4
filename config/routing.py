"""WebSocket routes of every app, gathered in one list."""

from django.urls import path

from helpline.consumers import ConsoleConsumer
from helpline.webchat.routing import websocket_urlpatterns as webchat_routes

websocket_urlpatterns = [
    *webchat_routes,
    path("ws/console/", ConsoleConsumer.as_asgi()),
]
