"""Helpers for admin tests: read a changelist's rows and click its sidebar filters as staff would."""


def rows(response) -> set:
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def filter_link(response, title: str, choice: str) -> str:
    """The query string behind a choice in the changelist's filter sidebar, as staff would click it."""
    changelist = response.context["cl"]
    for spec in changelist.filter_specs:
        if str(spec.title) == title:
            for option in spec.choices(changelist):
                if str(option["display"]) == choice:
                    return option["query_string"]
    raise AssertionError(f"the changelist has no filter {title!r} with the choice {choice!r}")
