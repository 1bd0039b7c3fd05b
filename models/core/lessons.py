"""The lesson list: one entry per page, shared by the navigation and the home page."""
import json

from models.core.paths import DATA_DIR

LESSONS_FILE = DATA_DIR / "lessons.json"
# The pages before the lessons: the lesson map (the app's home) and the class poll.
START_PAGES = (
    {"page": "pages/home.py", "title": "Lesson map", "icon": ":material/map:"},
    {"page": "pages/class_poll.py", "title": "Class poll", "icon": ":material/how_to_vote:"},
)


def load_lessons() -> list[dict]:
    """Return the lessons in teaching order, each with section, page, title, icon, summary."""
    return json.loads(LESSONS_FILE.read_text(encoding="utf-8"))


def sections() -> dict[str, list[dict]]:
    """Group the lessons by section, keeping their order."""
    grouped: dict[str, list[dict]] = {}
    for lesson in load_lessons():
        grouped.setdefault(lesson["section"], []).append(lesson)
    return grouped


def page_files() -> list[str]:
    """Every page of the app, start pages first, as paths from the project folder."""
    return [page["page"] for page in START_PAGES] + [lesson["page"] for lesson in load_lessons()]
