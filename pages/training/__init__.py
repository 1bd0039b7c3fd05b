"""Page parts of the Training section (charts of the over/underfitting and dropout pages); no streamlit here."""
