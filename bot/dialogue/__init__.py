"""Dialogue components of our own for Rasa's policy ensemble."""

# The slot the navigators' inbox sets while a navigator chats with the person
# (read by NavigatorLivePolicy; kept here so the inbox need not import Rasa).
NAVIGATOR_LIVE_SLOT = "navigator_live"
