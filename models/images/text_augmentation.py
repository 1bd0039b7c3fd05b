"""Easy Data Augmentation (EDA) for sentences: synonym replacement, random insertion, swap and deletion.

After Wei & Zou (2019), "EDA: Easy Data Augmentation Techniques for Boosting Performance on Text
Classification Tasks". They used WordNet; here a small hand-written synonym list keeps it offline.
"""
import random
import re
from collections import Counter

MAX_CHARACTERS = 500
MAX_WORDS = 80
EXAMPLE_SENTENCE = "the quick student found the difficult exercise really interesting and easy to start"

# Groups of words that can stand in for each other in everyday sentences; written for this app.
# Words with very different senses (right, light, kind, like, too, ...) are left out on purpose.
SYNONYM_GROUPS = (
    ("big", "large", "huge", "enormous"), ("small", "little", "tiny"), ("quick", "fast", "rapid", "speedy"),
    ("slow", "sluggish", "unhurried"), ("happy", "glad", "cheerful", "joyful"), ("sad", "unhappy", "gloomy"),
    ("good", "fine", "decent"), ("great", "excellent", "superb", "terrific"), ("bad", "poor", "awful"),
    ("terrible", "dreadful", "horrible"), ("beautiful", "lovely", "pretty"), ("ugly", "unattractive"),
    ("easy", "simple", "effortless"), ("difficult", "hard", "tough", "challenging"),
    ("interesting", "fascinating", "engaging"), ("boring", "dull", "tedious"), ("funny", "amusing", "hilarious"),
    ("smart", "clever", "intelligent"), ("strange", "odd", "weird", "unusual"),
    ("important", "significant", "crucial"), ("correct", "accurate", "exact"), ("wrong", "incorrect", "mistaken"),
    ("new", "fresh", "recent"), ("old", "ancient", "aged"), ("rich", "wealthy", "affluent"),
    ("angry", "furious", "annoyed"), ("scared", "afraid", "frightened"), ("tired", "exhausted", "weary"),
    ("quiet", "silent", "calm"), ("loud", "noisy"), ("movie", "film"), ("picture", "image", "photo"),
    ("car", "automobile", "vehicle"), ("house", "home", "dwelling"), ("child", "kid", "youngster"),
    ("student", "pupil", "learner"), ("teacher", "instructor", "tutor"), ("road", "street", "avenue"),
    ("town", "city"), ("story", "tale", "narrative"), ("idea", "notion", "concept"), ("problem", "issue", "trouble"),
    ("answer", "reply", "response"), ("exercise", "task", "assignment"), ("job", "work", "occupation"),
    ("friend", "companion", "pal"), ("gift", "present"), ("shop", "store"), ("trip", "journey", "voyage"),
    ("mistake", "error", "blunder"), ("start", "begin", "commence"), ("end", "finish", "conclude"),
    ("make", "create", "produce"), ("build", "construct", "assemble"), ("show", "display", "exhibit"),
    ("see", "notice", "observe"), ("look", "glance", "peek"), ("say", "declare", "remark"), ("tell", "inform"),
    ("think", "believe", "suppose"), ("help", "assist", "aid"), ("use", "employ", "utilize"),
    ("try", "attempt"), ("buy", "purchase"), ("walk", "stroll", "wander"), ("run", "sprint", "dash"),
    ("eat", "consume", "devour"), ("enjoy", "appreciate", "relish"), ("love", "adore", "cherish"),
    ("hate", "detest", "loathe"), ("learn", "study"), ("find", "discover", "locate"), ("choose", "pick", "select"),
    ("fix", "repair", "mend"), ("keep", "retain"), ("shout", "yell", "scream"), ("jump", "leap", "hop"),
    ("laugh", "giggle", "chuckle"), ("very", "extremely", "highly"), ("really", "truly", "genuinely"),
    ("quickly", "rapidly", "swiftly"), ("slowly", "gradually"), ("often", "frequently"), ("maybe", "perhaps"),
    ("almost", "nearly"),
)


def _synonym_table(groups) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for group in groups:
        for word in group:
            table.setdefault(word, []).extend(other for other in group if other != word)
    return {word: tuple(dict.fromkeys(others)) for word, others in table.items()}


SYNONYMS = _synonym_table(SYNONYM_GROUPS)
METHODS = {
    "synonym_replacement": "Synonym replacement (SR)",
    "random_insertion": "Random insertion (RI)",
    "random_swap": "Random swap (RS)",
    "random_deletion": "Random deletion (RD)",
}


def words_of(sentence: str) -> list[str]:
    """Lower-case words without punctuation, as the original EDA code prepares a sentence."""
    if not isinstance(sentence, str):
        raise ValueError("Please type a sentence (text).")
    if len(sentence) > MAX_CHARACTERS:
        raise ValueError(f"That text has {len(sentence)} characters; please keep it to {MAX_CHARACTERS} "
                         f"(one or two sentences).")
    words = re.findall(r"[^\W_]+(?:'[^\W_]+)*", sentence.lower())
    if not words:
        raise ValueError("Type a sentence with at least one word first.")
    if len(words) > MAX_WORDS:
        raise ValueError(f"That text has {len(words)} words; please keep it to {MAX_WORDS}.")
    return words


def changes_count(n_words: int, alpha: float) -> int:
    """EDA's n = max(1, int(alpha × number of words)) for replacement, insertion and swap."""
    return max(1, int(alpha * n_words))


def synonym_replacement(words: list[str], n: int, rng: random.Random) -> list[str]:
    """Pick up to n distinct words that have synonyms; replace every occurrence of each by one synonym."""
    candidates = sorted({word for word in words if word in SYNONYMS})
    rng.shuffle(candidates)
    new_words = list(words)
    for word in candidates[:n]:
        synonym = rng.choice(SYNONYMS[word])
        new_words = [synonym if w == word else w for w in new_words]
    return new_words


def random_insertion(words: list[str], n: int, rng: random.Random) -> list[str]:
    """n times: insert a synonym of a random word of the sentence at a random position."""
    candidates = [word for word in words if word in SYNONYMS]
    new_words = list(words)
    if not candidates:
        return new_words
    for _ in range(n):
        synonym = rng.choice(SYNONYMS[rng.choice(candidates)])
        new_words.insert(rng.randrange(len(new_words) + 1), synonym)
    return new_words


def random_swap(words: list[str], n: int, rng: random.Random) -> list[str]:
    """n times: swap two words at different random positions."""
    new_words = list(words)
    if len(new_words) < 2:
        return new_words
    for _ in range(n):
        i, j = rng.sample(range(len(new_words)), 2)
        new_words[i], new_words[j] = new_words[j], new_words[i]
    return new_words


def random_deletion(words: list[str], p: float, rng: random.Random) -> list[str]:
    """Delete each word with probability p; if that removes all of them, keep one at random."""
    if len(words) == 1:
        return list(words)
    kept = [word for word in words if rng.random() >= p]
    return kept or [rng.choice(words)]


def augment_sentence(sentence: str, method: str, *, alpha: float = 0.1, seed: int = 0) -> str:
    """One EDA operation on a sentence; the same seed always gives the same result."""
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 0.5:
        raise ValueError("alpha, the share of words to change, must be above 0 and at most 0.5.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError("The seed must be a whole number, 0 or more.")
    words = words_of(sentence)
    rng = random.Random(seed)
    if method == "random_deletion":
        return " ".join(random_deletion(words, alpha, rng))
    operation = {"synonym_replacement": synonym_replacement, "random_insertion": random_insertion,
                 "random_swap": random_swap}[method]
    return " ".join(operation(words, changes_count(len(words), alpha), rng))


def words_with_synonyms(sentence: str) -> list[str]:
    """The distinct words of the sentence that the built-in list knows synonyms for."""
    return sorted({word for word in words_of(sentence) if word in SYNONYMS})


def change_summary(sentence: str, augmented: str, method: str) -> str:
    """A short note of what an operation changed, for the table on the page."""
    before, after = words_of(sentence), augmented.split()
    if method == "synonym_replacement":
        pairs = dict.fromkeys(f"{old} → {new}" for old, new in zip(before, after) if old != new)
        return ", ".join(pairs) or "no word with a listed synonym"
    if method == "random_insertion":
        added = list((Counter(after) - Counter(before)).elements())
        return ("added " + ", ".join(added)) if added else "no word with a listed synonym"
    if method == "random_swap":
        moved = [new for old, new in zip(before, after) if old != new]
        return ("moved " + ", ".join(dict.fromkeys(moved))) if moved else "swapped equal words or swapped back"
    removed = list((Counter(before) - Counter(after)).elements())
    return ("deleted " + ", ".join(removed)) if removed else "nothing deleted this time; try another seed"
