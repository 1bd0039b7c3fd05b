"""The forward-pass page in its address: the whole network as typed (compact JSON) and the teacher switch."""
from models.core.links import MAX_TEXT_LENGTH, Field, check_schema
from models.foundations import forward_pass as fp
from pages.foundations.forward_pass_parts import link_text

PAGE = "forward_pass"
PRESETS = fp.load_presets()
SCHEMA = check_schema([
    # The tables, activations, loss and learning rate all live in the spec; the page's own reader checks it.
    Field("forward_pass_net", "net", "text", link_text(next(iter(PRESETS.values()))), max_length=MAX_TEXT_LENGTH),
    Field("forward_pass_show_all", "answers", "bool", False)])
DEFAULTS = {f.key: f.default for f in SCHEMA}
CHECKS = {"forward_pass_net": fp.spec_from_json}


def preset_of(spec: dict) -> str | None:
    """The preset this spec is, number for number, if any."""
    return next((name for name, preset in PRESETS.items() if link_text(preset) == link_text(spec)), None)
