"""A file's size reads one way wherever it is shown: the readable size and the exact count, the count alone under
1 KB."""

from cases.sizes import size_words


def test_a_size_gives_its_readable_form_and_exact_count_and_a_small_one_its_count_alone():
    # Django's size keeps its number and unit together with a no-break space.
    assert size_words(8256) == "8.1\xa0KB (8,256 bytes)"
    assert size_words(5 * 1024**3 + 1) == "5.0\xa0GB (5,368,709,121 bytes)"
    assert size_words(139) == "139\xa0bytes"
    assert size_words(1) == "1\xa0byte"
