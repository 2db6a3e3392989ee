"""The navigators' inbox: an aiohttp app where navigators take and answer handoff requests."""
