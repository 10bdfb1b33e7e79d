# Plan check only (scripts/plan_check.py, VARIANTS): the fleet's forecast without acting on it; the predictive policy is still planned, in ForecastOnly mode.
predictive_scaling_mode = "ForecastOnly"
