"""Text from files and users (firm names, products, reasons) shown where Streamlit renders Markdown (headers,
st.markdown): escaped, so that it reads exactly as written and can never become a link, an image, a colour
directive or formatting. Streamlit already escapes HTML unless unsafe_allow_html is set — which zjtx never sets
for data. Tables (st.dataframe) and st.text show text as it is and need no escaping.
"""

from __future__ import annotations

import re

# Markdown punctuation plus Streamlit's own syntax: ":red[...]" / ":material/icon:" directives and "$" maths.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=])")


def md_text(value: object) -> str:
    """`value` as Markdown that renders as the literal text (one line: line breaks become spaces)."""
    text = "" if value is None else str(value)
    return _SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))
