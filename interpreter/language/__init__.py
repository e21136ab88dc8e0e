"""The rule language: values, expressions, types, functions, tables and the lowered core.

No I/O: everything here is a pure function of its arguments.
"""
