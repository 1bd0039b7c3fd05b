"""Placeholder until the page lands."""
import streamlit as st

from pages.shared.navigation import ensure_app_navigation

ensure_app_navigation()

st.title("dropout")
st.info("This lesson is being prepared.")
