"""The SMS channel, one module per job.

- ``channel``: the webhook (``SmsInput``) and sending later (``SmsOutput``);
- ``settings``: ``SmsConfig``, from credentials.yml and the environment;
- ``numbers``: conversation ids from phone numbers, and the numbers sealed in metadata;
- ``state``: what is kept in the database (webhooks seen, numbers opted out);
- ``replies``: the STOP/START/HELP keywords and the channel's fixed replies;
- ``twiml``: Twilio's form in, TwiML out;
- ``render``: the bot's messages as text messages;
- ``flood``: flood limits; ``gateway``: the Twilio-compatible REST API.

``credentials.yml`` names the input channel by this package: ``bot.channels.sms.SmsInput``.
"""

from bot.channels.sms.channel import SmsInput

__all__ = ["SmsInput"]
