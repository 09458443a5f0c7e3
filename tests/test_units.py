import pytest

from instep import reference, units


def test_mwh_to_kwh_and_gj_to_kwh():
    assert units.to_canonical("energy.electricity.grid", 2.5, "MWh") == pytest.approx(2500.0)
    # 1 GJ = 1e9 J / 3.6e6 J per kWh = 277.78 kWh
    assert units.to_canonical("energy.electricity.grid", 1.0, "GJ") == pytest.approx(277.7777778)


def test_diesel_kilograms_to_litres_uses_the_shipped_density():
    density = reference.fuels()["diesel"].density_kg_per_l
    # 844 kg of diesel at 0.844 kg/L is 1,000 L.
    assert density == 0.844
    assert units.to_canonical("energy.fuel.diesel", 844.0, "kg") == pytest.approx(1000.0)
    assert units.to_canonical("energy.fuel.diesel", 1.0, "m3") == pytest.approx(1000.0)


def test_natural_gas_mass_to_energy_uses_the_net_calorific_value():
    # 1 t of natural gas x 48.0 MJ/kg = 48,000 MJ = 48 GJ
    assert units.to_canonical("energy.fuel.natural_gas", 1.0, "t") == pytest.approx(48.0)


def test_microgram_results_become_milligrams():
    assert units.to_canonical("wastewater.chromium_vi", 5.0, "ug/L") == pytest.approx(0.005)


def test_every_accepted_unit_of_every_metric_has_a_factor():
    pairs = {(f.metric, f.unit) for f in units.unit_factors()}
    for metric in reference.metrics().values():
        for unit in metric.accepted_units:
            assert (metric.code, unit) in pairs


def test_unit_not_accepted_is_refused_with_the_accepted_list():
    with pytest.raises(units.UnknownConversion, match="expected one of t, kg"):
        units.factor_for("energy.fuel.coal", "litres")
