"""Our aiohttp web app: the chat page, and a small proxy to Rasa's REST channel."""
