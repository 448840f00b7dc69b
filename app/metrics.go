package app

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/conduit-dev/conduit/resolvers"
)

// poolCollector exports the statistics of the database's connection pool
// as they are at each scrape: whether requests wait for connections (and
// how long) is what tells a pool that is too small from a database that is
// too slow.
type poolCollector struct {
	stat func() *pgxpool.Stat
}

func poolDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("conduit_db_pool_"+name, help, labels, nil)
}

var (
	poolAcquired     = poolDesc("acquired_connections", "Connections in use by a request.")
	poolIdle         = poolDesc("idle_connections", "Open connections not in use.")
	poolConstructing = poolDesc("constructing_connections", "Connections being opened.")
	poolTotal        = poolDesc("total_connections", "Open connections, in use or not, and those being opened.")
	poolMax          = poolDesc("max_connections", "The most connections the pool opens (DB_MAX_CONNS).")
	poolAcquires     = poolDesc("acquires_total", "Connections handed out by the pool.")
	poolAcquireTime  = poolDesc("acquire_duration_seconds_total", "Time spent acquiring connections, waits included.")
	poolEmpty        = poolDesc("empty_acquires_total", "Acquires that had to wait because no connection was idle.")
	poolEmptyWait    = poolDesc("empty_acquire_wait_seconds_total", "Time spent waiting by the acquires that found no idle connection.")
	poolCanceled     = poolDesc("canceled_acquires_total", "Acquires given up because their context ended first.")
	poolNew          = poolDesc("new_connections_total", "Connections opened.")
	poolDestroyed    = poolDesc("destroyed_connections_total", "Connections closed by the pool, by reason (max_lifetime or max_idle_time).", "reason")
)

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		poolAcquired, poolIdle, poolConstructing, poolTotal, poolMax, poolAcquires, poolAcquireTime,
		poolEmpty, poolEmptyWait, poolCanceled, poolNew, poolDestroyed,
	} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stat()
	gauge := func(d *prometheus.Desc, v int32) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(poolAcquired, s.AcquiredConns())
	gauge(poolIdle, s.IdleConns())
	gauge(poolConstructing, s.ConstructingConns())
	gauge(poolTotal, s.TotalConns())
	gauge(poolMax, s.MaxConns())
	counter(poolAcquires, float64(s.AcquireCount()))
	counter(poolAcquireTime, s.AcquireDuration().Seconds())
	counter(poolEmpty, float64(s.EmptyAcquireCount()))
	counter(poolEmptyWait, s.EmptyAcquireWaitTime().Seconds())
	counter(poolCanceled, float64(s.CanceledAcquireCount()))
	counter(poolNew, float64(s.NewConnsCount()))
	counter(poolDestroyed, float64(s.MaxLifetimeDestroyCount()), "max_lifetime")
	counter(poolDestroyed, float64(s.MaxIdleDestroyCount()), "max_idle_time")
}

// liveMetrics are the counters of subscriptions: connections and
// subscriptions open, events delivered and dropped, and reconnections of
// the listener that brings events from PostgreSQL.
func liveMetrics(live Live, graphql *resolvers.Handler) []prometheus.Collector {
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "conduit_subscription_connections_open",
			Help: "WebSocket and SSE connections open on this replica.",
		}, func() float64 { return float64(graphql.OpenStreams()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "conduit_subscription_connections_refused_total",
			Help: "WebSocket and SSE connections refused with 503: the replica held SUBSCRIPTION_MAX_CONNECTIONS, or was shutting down.",
		}, func() float64 { return float64(graphql.RefusedStreams()) }),
	}
	if hub := live.Hub; hub != nil {
		cs = append(cs,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "conduit_subscriptions_open",
				Help: "Subscriptions open on this replica.",
			}, func() float64 { return float64(hub.Stats().Open) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "conduit_subscription_events_delivered_total",
				Help: "Events handed to subscribers.",
			}, func() float64 { return float64(hub.Stats().Delivered) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "conduit_subscription_events_dropped_total",
				Help: "Events a subscriber did not get: its buffer was full (it was then ended as too slow), or the follow check failed.",
			}, func() float64 { return float64(hub.Stats().Dropped) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "conduit_subscriptions_refused_total",
				Help: "Subscriptions refused: the replica ran SUBSCRIPTION_MAX, or was shutting down.",
			}, func() float64 { return float64(hub.Stats().Refused) }),
		)
	}
	if n := live.ListenerReconnects; n != nil {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "conduit_subscription_listener_reconnects_total",
			Help: "Times the listener that brings events from PostgreSQL (LISTEN) connected again after losing its connection.",
		}, func() float64 { return float64(n()) }))
	}
	return cs
}
