"""Risk: five levels and their actions, and the assessors that give them.

The rules themselves (attempt rates, cumulative amounts, travel, rings, fund flows, the review
queue) arrive later as assessors behind :class:`hongbao.risk.assessors.RiskAssessor`; until
then the passing assessor answers level 0 and says so.
"""
