from bot.reo import fold, match_key, spelling_variants


def test_fold_makes_macrons_double_vowels_and_case_one_key():
    assert fold("whānau") == fold("whanau") == fold("whaanau") == fold("WHANAU") == "whanau"
    assert fold("Māwhera") == fold("Maawhera") == "mawhera"


def test_fold_leaves_the_original_text_alone():
    text = "Kei hea te kai bank in Māwhera"
    fold(text)
    assert text == "Kei hea te kai bank in Māwhera"


def test_spelling_variants_never_add_macrons():
    assert spelling_variants("kahu") == {"kahu"}
    assert spelling_variants("Kāhu") == {"kāhu", "kahu", "kaahu"}


def test_match_key_pads_and_drops_punctuation():
    assert match_key("What's the #? Lifeline!") == " whats the lifeline "
