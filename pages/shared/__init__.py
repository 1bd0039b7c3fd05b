"""Streamlit helpers shared by several pages (not pages themselves: the navigation lists only pages/*.py)."""
