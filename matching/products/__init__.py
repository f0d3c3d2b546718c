"""Product understanding, learned from the nomenclature (issue #12).

Modules, each owning one thing: ``heads`` (head noun + typed modifiers, FR/EN/DE), ``compounds``
(German compound splitting over the label vocabulary), ``lexicon`` (per-language label
vocabularies: language guess, splitter counts).
"""
