"""The system in operation (paper 3.2.3-3.2.6): a digital twin of the UCI retailer run through
2011 on real demand, with monitoring, drift detection and retraining. Notebook 08 and
``benchmarks/bench_system.py``.

One module per idea; every public name is re-exported here (``from mas_lib import ops``)::

    network      the warehouses (UK hub + overseas), lead times, links, costs; nodes per product
    products     which products: ranked before the twin's start, the named sets, new products
    demand       the twin's demand per (warehouse, product): real data, synthetic fallback, checks
    drift        drift detectors (tracking signal, CUSUM, Page-Hinkley) and a detection study
    forecasting  morning forecasts and safety stocks re-fitted on a schedule, past data only
    policies     forecast base-stock and (s, S) with day-by-day safety stock
    twin         the daily loop (run_twin) and its record (TwinRun)
    monitor      KPIs per warehouse, product and week; alert rules and alerts
    dashboard    the matplotlib dashboard and the ipywidgets panel
    retrain      retraining strategies compared over the year
    strategy_sets  the strategy table on several product sets, bootstrap intervals over products
    hindsight    the clairvoyant lower bound of every product, a real clairvoyant plan, each policy's gap to both

Pipeline::

    data = ops.load_twin_data()                       # or ops.synthetic_twin_data() without the file
    plan = ops.scheduled_forecasts(data, "weekly")     # forecasts + safety stock each morning
    run  = ops.run_twin(data, plan, "base-stock")       # one year, one vectorised step a day
    kpis = ops.weekly_kpis(run); ops.alerts(kpis)

Coordination protocols (the messaging layer) plug in as a policy factory
``(config, plan, open_days) -> Policy`` passed to :func:`run_twin`.

Layering: ``mas_lib.ops`` may import validation, sim, data, forecast and decide.
"""

from .dashboard import *  # noqa: F403
from .dashboard import __all__ as _dashboard_all
from .demand import *  # noqa: F403
from .demand import __all__ as _demand_all
from .drift import *  # noqa: F403
from .drift import __all__ as _drift_all
from .forecasting import *  # noqa: F403
from .forecasting import __all__ as _forecasting_all
from .hindsight import *  # noqa: F403
from .hindsight import __all__ as _hindsight_all
from .monitor import *  # noqa: F403
from .monitor import __all__ as _monitor_all
from .network import *  # noqa: F403
from .network import __all__ as _network_all
from .policies import *  # noqa: F403
from .policies import __all__ as _policies_all
from .products import *  # noqa: F403
from .products import __all__ as _products_all
from .retrain import *  # noqa: F403
from .retrain import __all__ as _retrain_all
from .strategy_sets import *  # noqa: F403
from .strategy_sets import __all__ as _strategy_sets_all
from .twin import *  # noqa: F403
from .twin import __all__ as _twin_all

__all__ = [
    *_network_all, *_demand_all, *_drift_all, *_forecasting_all, *_policies_all, *_twin_all,
    *_monitor_all, *_dashboard_all, *_products_all, *_retrain_all,
    *_strategy_sets_all, *_hindsight_all,
]
