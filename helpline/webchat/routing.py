from django.urls import path

from helpline.webchat.consumers import WebChatConsumer

websocket_urlpatterns = [
    path("ws/chat/<slug:line_slug>/", WebChatConsumer.as_asgi()),
]
