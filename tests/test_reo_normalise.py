from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.components import ReoFolder
from bot.reo import fold, match_key, spelling_variants


def test_fold_makes_macrons_double_vowels_and_case_one_key():
    assert fold("whānau") == fold("whanau") == fold("whaanau") == fold("WHANAU") == "whanau"
    assert fold("Māwhera") == fold("Maawhera") == "mawhera"


def test_the_model_sees_folded_words_while_the_message_keeps_its_macrons():
    """ReoFolder folds what the featurisers read (token lemmas), never the text itself."""
    text = "Kei hea te kai bank i Māwhera"
    message = Message({TEXT: text})
    message.set(TOKENS_NAMES[TEXT], [Token("Kei", 0), Token("Māwhera", 21)])
    (message,) = ReoFolder({}).process([message])
    assert message.get(TEXT) == text
    assert [t.lemma for t in message.get(TOKENS_NAMES[TEXT])] == ["kei", "mawhera"]


def test_spelling_variants_never_add_macrons():
    assert spelling_variants("kahu") == {"kahu"}
    assert spelling_variants("Kāhu") == {"kāhu", "kahu", "kaahu"}


def test_match_key_pads_and_drops_punctuation():
    assert match_key("What's the #? Lifeline!") == " whats the lifeline "
