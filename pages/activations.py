import streamlit as st
st.title('activations (coming)')
