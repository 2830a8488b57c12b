"""Resection planning: the plans (``resectionPlans``), the future liver remnant and its ratios
(``futureLiverRemnant``, ``remnantRatios``), a virtual transection (``virtualTransection``), Couinaud
segments from landmarks (``landmarkSegments``) and the plan shown in 3D (``planDisplay``)."""
