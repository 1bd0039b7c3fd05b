"""Page parts of the Images section; not pages themselves."""
