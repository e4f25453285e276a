"""Text from files and users (firm names, products, reasons) shown where Streamlit renders Markdown (headers,
st.markdown): written so that it reads exactly as given and can never become a link, an image, a colour directive
or formatting. Streamlit already escapes HTML unless unsafe_allow_html is set — which zjtx never sets for data.
Tables (st.dataframe) and st.text show text as it is and need none of this.

Two steps: Markdown punctuation is written as numeric character references (&#58; for ":"), so no syntax can form;
and Streamlit's renderer turns any "http://…", "www.…" or e-mail address left in the *text* into a link after
parsing, which no escape prevents — an invisible WORD JOINER (U+2060) inside those patterns stops it. The text
reads the same; a URL in a firm name is simply not clickable.
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"
# Markdown punctuation, Streamlit's ":red[...]" / ":material/icon:" directives and "$" maths, and "&" itself (a
# name must not smuggle in its own references).
_SPECIAL = re.compile(r"[\\`*_{}\[\]()<>#+\-.!|~$:=&]")
# What the GFM autolink-literal step links in plain text.
_AUTOLINK = re.compile(r"(?i)(://|www(?=\.)|@)")


def md_text(value: object) -> str:
    """`value` as Markdown that renders as the literal text (one line: line breaks become spaces)."""
    text = " ".join(("" if value is None else str(value)).splitlines())
    text = _AUTOLINK.sub(lambda m: f"{m.group()[0]}{WORD_JOINER}{m.group()[1:]}" if m.group() != "@"
                         else f"{WORD_JOINER}@", text)
    return _SPECIAL.sub(lambda m: f"&#{ord(m.group())};", text)
