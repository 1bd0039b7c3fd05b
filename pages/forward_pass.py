import streamlit as st
st.title('forward_pass (coming)')
