"""粤人社规〔2021〕13号 written as an OpenFisca variable set, for benchmarks/batch_1m.py only.

Money is integer fen (value_type int, which OpenFisca stores as int32: enough for a monthly
pension; the one product of two amounts is widened to int64), as in our columnar engine,
so the outputs can be compared exactly. Needs openfisca-core (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import DateUnit
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

Person = build_entity(key="person", plural="persons", label="A retiree", doc="", is_person=True)
MONTH = DateUnit.MONTH
CUTOFF = np.datetime64("2020-12-31")
DEC_FIRST = np.datetime64("2020-12-01")


class Scheme(Enum):
    enterprise = "enterprise"
    public_institution = "public_institution"
    other = "other"


def _input(name: str, value_type: type, default=None, **extra) -> type:
    attrs = {
        "value_type": value_type,
        "entity": Person,
        "definition_period": MONTH,
        "label": name,
        **extra,
    }
    if default is not None:
        attrs["default_value"] = default
    return type(name, (Variable,), attrs)


INPUTS = [
    _input("pension_start_date", dt.date),
    _input("retirement_approved_date", dt.date),
    _input("pension_base_year", int),
    _input("monthly_pension", int),  # fen
    _input("contribution_years_tenths", int),
    _input("birth_date", dt.date),
    _input("scheme", Enum, Scheme.enterprise, possible_values=Scheme),
    _input("military_transfer_cadre", bool),
    _input("city_average_enterprise_pension", int),
    _input("city_average_null", bool),
    _input("personal_account_balance", int),
    _input("split_null", bool),
    _input("personal_account_pension_at_retirement", int),
    _input("initial_pension_at_retirement", int),
]


class _Computed:
    entity = Person
    definition_period = MONTH
    value_type = int


class eligible(Variable):
    value_type = bool
    label = "In scope (s1)"

    def formula(person, period):
        start = person("pension_start_date", period)
        approved = person("retirement_approved_date", period)
        year = person("pension_base_year", period)
        return (start <= CUTOFF) + ((approved >= DEC_FIRST) * (approved <= CUTOFF) * (year == 2020))


class flat_increase(Variable):
    def formula(person, period):
        return person("eligible", period) * 4500


class proportional_increase(Variable):
    def formula(person, period):
        pension = person("monthly_pension", period)
        return person("eligible", period) * ((pension * 18 + 500) // 1000)


class seniority_increase(Variable):
    def formula(person, period):
        years = -(-person("contribution_years_tenths", period) // 10)
        amount = years + np.maximum(years - 15, 0)
        return person("eligible", period) * np.maximum(amount, 15) * 100


class age_increase(Variable):
    def formula(person, period):
        birth = person("birth_date", period)
        age = 2020 - (birth.astype("datetime64[Y]").astype(np.int64) + 1970)
        band = np.select(
            [age >= 100, age >= 90, age >= 80, age >= 70], [30000, 10000, 5000, 3000], 0
        )
        return person("eligible", period) * band


class regular_adjusted_pension(Variable):
    def formula(person, period):
        return (
            person("monthly_pension", period)
            + person("flat_increase", period)
            + person("proportional_increase", period)
            + person("seniority_increase", period)
            + person("age_increase", period)
        )


class new_monthly_pension(Variable):
    def formula(person, period):
        regular = person("regular_adjusted_pension", period)
        city = person("city_average_enterprise_pension", period)
        cadre = (
            person("eligible", period)
            * person("military_transfer_cadre", period)
            * (person("scheme", period) == Scheme.enterprise)
            * np.logical_not(person("city_average_null", period))
        )
        return np.where(cadre * (regular < city), city, regular)


class total_increase(Variable):
    def formula(person, period):
        return person("new_monthly_pension", period) - person("monthly_pension", period)


class from_personal_account(Variable):
    def formula(person, period):
        # OpenFisca's int is int32: widen before multiplying fen by fen
        total = person("total_increase", period).astype(np.int64)
        p = person("personal_account_pension_at_retirement", period).astype(np.int64)
        q = person("initial_pension_at_retirement", period).astype(np.int64)
        share = (2 * total * p + q) // np.maximum(2 * q, 1)
        zero = person("personal_account_balance", period) == 0
        return np.where(person("split_null", period) + zero, 0, share)


class from_pooled_fund(Variable):
    def formula(person, period):
        split = np.logical_not(person("split_null", period))
        return split * (person("total_increase", period) - person("from_personal_account", period))


OUTPUTS = [
    eligible,
    flat_increase,
    proportional_increase,
    seniority_increase,
    age_increase,
    regular_adjusted_pension,
    new_monthly_pension,
    total_increase,
    from_personal_account,
    from_pooled_fund,
]


for _variable in OUTPUTS:  # OpenFisca reads a variable's own attributes, not inherited ones
    for _attr in ("entity", "definition_period", "value_type"):
        if _attr not in _variable.__dict__:
            setattr(_variable, _attr, getattr(_Computed, _attr))
    if "label" not in _variable.__dict__:
        _variable.label = _variable.__name__


class PensionSystem(TaxBenefitSystem):
    def __init__(self) -> None:
        super().__init__([Person])
        for variable in [*INPUTS, *OUTPUTS]:
            self.add_variable(variable)


def run_openfisca(g: dict[str, np.ndarray], on: dt.date) -> dict[str, np.ndarray]:
    """Build a simulation of len(g) retirees and compute every output for January 2021."""
    system = PensionSystem()
    n = len(g["monthly_pension"])
    sim = SimulationBuilder().build_default_simulation(system, count=n)
    period = on.strftime("%Y-%m")
    for name, values in g.items():
        if name in ("pension_start_date", "retirement_approved_date", "birth_date"):
            values = values.astype("datetime64[D]")
        if name == "scheme":
            values = Scheme.encode(np.array(["enterprise", "public_institution", "other"])[values])
        sim.set_input(name, period, values)
    names = [
        "eligible",
        "flat_increase",
        "proportional_increase",
        "seniority_increase",
        "age_increase",
        "total_increase",
        "new_monthly_pension",
        "from_personal_account",
        "from_pooled_fund",
    ]
    return {name: sim.calculate(name, period) for name in names}
