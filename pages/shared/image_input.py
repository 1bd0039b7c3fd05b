"""One image picker for every image page: the sample gallery, an upload, or a camera photo; one decoder behind it."""
import hashlib

import streamlit as st
from PIL import Image

from models.vision.images import MAX_BYTES, SUPPORTED, ImageInputError, gallery, load_image
from pages.shared.feedback import plain

SOURCES = ("Sample gallery", "Upload a file", "Camera")


def pick_image(key: str, *, default_sample: str | None = None) -> tuple[Image.Image | None, str]:
    """Show the picker; return (RGB image, a short description, Markdown-safe) or (None, "") with a message shown.

    The uploader takes any file: a browser-side type filter would refuse an .svg or .zip with a chip only it
    shows, while the page kept the last picture's results. Every file reaches `load_image`, which says what it
    is. Uploads stay in this student's session memory only: never written to disk, never cached across sessions.
    """
    source = st.segmented_control("Picture from", SOURCES, default=SOURCES[0], required=True,
                                  key=f"{key}_source")
    if source == SOURCES[0]:
        samples = gallery()
        names = sorted(samples)
        index = names.index(default_sample) if default_sample in names else 0
        name = st.selectbox("Sample picture", names, index=index, key=f"{key}_sample",
                            format_func=lambda n: n.replace("_", " "))
        data, label = samples[name].read_bytes(), f"sample picture “{plain(name.replace('_', ' '))}”"
    else:
        if source == SOURCES[1]:
            file = st.file_uploader(f"Choose a picture ({SUPPORTED}; up to {MAX_BYTES // 2**20} MB)",
                                    key=f"{key}_upload")
        else:
            st.caption("The camera works on this computer, or on any device when the app is served over HTTPS.")
            file = st.camera_input("Take a photo", key=f"{key}_camera")
        if file is None:
            st.info("Choose a picture to start.")
            return None, ""
        data, label = file.getvalue(), f"your picture “{plain(file.name)}”"
        image = _decoded(key, data)
        if image is None:
            st.caption(f"Refused: “{plain(file.name)}”. This page shows no results until you choose a picture "
                       "it can read.")
        return image, label
    return _decoded(key, data), label


def _decoded(key: str, data: bytes) -> Image.Image | None:
    """Decode once per distinct file in this session; a bad file shows the loader's message."""
    digest = hashlib.sha256(data).hexdigest()
    slot = f"{key}_decoded"
    cached = st.session_state.get(slot)
    if cached and cached[0] == digest:
        image, problem = cached[1], cached[2]
    else:
        try:
            image, problem = load_image(data), None
        except ImageInputError as error:
            image, problem = None, str(error)
        st.session_state[slot] = (digest, image, problem)
    if problem:
        st.error(problem, icon=":material/broken_image:")
    return image
