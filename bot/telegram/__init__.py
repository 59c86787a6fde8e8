"""The Telegram adapter: aiogram routers that translate updates into the conversation core's
events and its answers into Telegram calls, and the Telegram outbox channel."""
