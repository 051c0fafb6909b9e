DEFAULT_URL = ''  # placeholder: replaced by the sources work
