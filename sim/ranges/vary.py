"""Where the inputs of many runs are made: a scenario file parsed once, varied many times.

The work is in three places, in pipeline order: the specs of ranges and the points they make
(sim/inputs/specs.py, sim/inputs/points.py: a file may state them in place of values), templates
(sim/ranges/template.py) and grids and draws (sim/ranges/draws.py). Their public names are
imported here, where the rest of the code and the public API (``sim.grid``, ``sim.draw``...)
have always found them. docs/scenarios.md, "Ranges: sweeps and distributions".
"""

from __future__ import annotations

from sim.inputs.points import Ranges as Ranges
from sim.inputs.points import at_first_point as at_first_point
from sim.inputs.points import ranges as ranges
from sim.inputs.specs import DISTRIBUTIONS as DISTRIBUTIONS
from sim.inputs.specs import MAX_NUMBER as MAX_NUMBER
from sim.inputs.specs import MAX_POINTS as MAX_POINTS
from sim.inputs.specs import MAX_RUNS as MAX_RUNS
from sim.inputs.specs import RANGED as RANGED
from sim.inputs.specs import SHARE_PLACES as SHARE_PLACES
from sim.inputs.specs import Distribution as Distribution
from sim.inputs.specs import Sweep as Sweep
from sim.inputs.specs import input_at as input_at
from sim.inputs.specs import parse_vary as parse_vary
from sim.inputs.specs import varied_input as varied_input
from sim.inputs.values import NUMERIC as NUMERIC
from sim.inputs.values import Declared as Declared
from sim.ranges.draws import Points as Points
from sim.ranges.draws import draw as draw
from sim.ranges.draws import draw_points as draw_points
from sim.ranges.draws import grid as grid
from sim.ranges.draws import grid_points as grid_points
from sim.ranges.template import Inputs as Inputs
from sim.ranges.template import Point as Point
from sim.ranges.template import Template as Template
from sim.ranges.template import describe as describe
from sim.ranges.template import first_point as first_point
from sim.ranges.template import load_template as load_template
from sim.ranges.template import scenario_at as scenario_at
