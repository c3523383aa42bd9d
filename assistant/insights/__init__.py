"""Customer insight: RFM features, segments (k-means with names a person reads), churn risk (gradient
boosting validated on a later time window) and satisfaction. Pure functions over plain records; the
store adapter (``assistant.insights.shop``) turns the shop's database into those records."""
