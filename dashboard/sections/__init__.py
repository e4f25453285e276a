"""What each page shows, built once per data version: one module per page (dashboard/views/<page>.py).

Every function here is a builder for `dashboard.cache.cached_view(builder, *args)`: it reads through `cached()` and
returns finished pieces — plotly figures, labelled tables (components.Table), counts — for the page to draw. Its
arguments are the page's choices and the language, so a warm page run looks the pieces up instead of building them
again. Builders draw nothing (no st.* elements) and callers never mutate what they get: it is shared.
"""
