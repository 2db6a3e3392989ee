"""Te reo Māori support: the one normaliser used wherever text is matched."""

from bot.reo.normalise import fold, match_key, spelling_variants

__all__ = ["fold", "match_key", "spelling_variants"]
