package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/streamforge/streamforge/libs/retry"
)

// Admin sends cluster-level requests: the connectivity check and topic
// creation.
type Admin struct {
	cfg    Config
	client *kafka.Client
	tr     *kafka.Transport
	dialer *kafka.Dialer
	last   atomic.Int32 // the bootstrap broker that answered last
}

// NewAdmin returns an Admin for cfg. It fails only on invalid settings.
func NewAdmin(cfg Config) (*Admin, error) {
	t, err := cfg.transport()
	if err != nil {
		return nil, err
	}
	d, err := cfg.dialer()
	if err != nil {
		return nil, err
	}
	return &Admin{cfg: cfg, client: &kafka.Client{Addr: kafka.TCP(cfg.Brokers()...), Transport: t, Timeout: cfg.DialTimeout}, tr: t, dialer: d}, nil
}

// ErrAccess is wrapped by errors that say Kafka answered and refused: the
// credentials were rejected or the user is denied. Waiting does not help.
var ErrAccess = errors.New("kafka refused access")

// Check connects, authenticates and reads cluster metadata within the dial
// timeout. Its error says what a person should fix: the address, the
// credentials (wrapping ErrAccess) or the TLS setup.
func (a *Admin) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.DialTimeout)
	defer cancel()
	if a.cfg.usesSASL() {
		if err := a.checkSASL(ctx); err != nil {
			return err
		}
	}
	err := a.via(ctx, func(addr net.Addr) error {
		_, err := a.client.Metadata(ctx, &kafka.MetadataRequest{Addr: addr, Topics: []string{}})
		return err
	})
	if err == nil {
		return nil
	}
	return a.explain(err)
}

// checkSASL authenticates against the first bootstrap server that accepts a
// TCP connection. Brokers differ in how they refuse a login (an error code,
// or closing the connection at once), so a failure after the TCP connection
// succeeded is reported as rejected credentials.
func (a *Admin) checkSASL(ctx context.Context) error {
	var lastErr error
	for _, addr := range a.cfg.Brokers() {
		raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			lastErr = err
			continue
		}
		_ = raw.Close() // only probing reachability
		conn, err := a.dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			if ctx.Err() != nil {
				return a.explain(err)
			}
			return fmt.Errorf("kafka at %s (%s) rejected %s authentication as %q: check KAFKA_USERNAME and KAFKA_PASSWORD%s: %w: %w",
				addr, a.cfg.SecurityProtocol, a.cfg.SASLMechanism, a.cfg.Username, tlsHint(a.cfg), ErrAccess, err)
		}
		return conn.Close()
	}
	return a.explain(lastErr)
}

// Unreachable reports whether err says Kafka could not be reached or did
// not answer in time: a failure that may pass by itself, such as a broker
// restarting. Rejected credentials and denied access (ErrAccess), a TLS
// setup that fails and invalid settings are not: waiting does not mend
// them.
func Unreachable(err error) bool {
	var ne net.Error
	var oe *net.OpError
	switch {
	case err == nil || errors.Is(err, ErrAccess) || !errors.As(err, &ne):
		return false
	case errors.As(err, &oe) && oe.Op == "remote error":
		return false // a TLS alert: the peer refused the handshake
	default:
		return true
	}
}

// UntilReachable runs check until it succeeds, waiting out the failures
// Unreachable reports with capped, jittered backoff and telling onWait (when
// not nil) of each. Any other failure is returned at once; when ctx ends
// first, the last failure is returned. Bound the wait with ctx's deadline.
func UntilReachable(ctx context.Context, check func(ctx context.Context) error, onWait func(err error)) error {
	backoff := retry.Backoff{Base: time.Second, Max: MaxRetryWait}
	for n := 0; ; n++ {
		err := check(ctx)
		if !Unreachable(err) {
			return err
		}
		if onWait != nil {
			onWait(err)
		}
		if !retry.Sleep(ctx, backoff.Delay(n)) {
			return err
		}
	}
}

func tlsHint(c Config) string {
	if c.usesTLS() {
		return " (or KAFKA_CA_FILE if the TLS handshake failed)"
	}
	return ""
}

func (a *Admin) explain(err error) error {
	where := fmt.Sprintf("%s (%s)", a.cfg.BootstrapServers, a.cfg.SecurityProtocol)
	var ke kafka.Error
	var ne net.Error
	switch {
	case errors.As(err, &ke) && (ke == kafka.SASLAuthenticationFailed || ke == kafka.IllegalSASLState || ke == kafka.UnsupportedSASLMechanism):
		return fmt.Errorf("kafka at %s rejected %s authentication as %q: check KAFKA_USERNAME and KAFKA_PASSWORD: %w: %w", where, a.cfg.SASLMechanism, a.cfg.Username, ErrAccess, err)
	case errors.As(err, &ke) && (ke == kafka.TopicAuthorizationFailed || ke == kafka.ClusterAuthorizationFailed || ke == kafka.GroupAuthorizationFailed):
		return fmt.Errorf("kafka at %s denied user %q: check the user's ACLs: %w: %w", where, a.cfg.Username, ErrAccess, err)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Errorf("no answer from kafka at %s within %s: check KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL and the network: %w", where, a.cfg.DialTimeout, err)
	default:
		return fmt.Errorf("kafka at %s: %w", where, err)
	}
}

// TopicSpec describes a topic to create.
type TopicSpec struct {
	Name              string
	Partitions        int               // <= 0 means the broker default
	ReplicationFactor int               // <= 0 means the broker default
	Configs           map[string]string // e.g. retention.ms
}

// EnsureTopics creates the topics that do not exist yet and waits until every
// one of them has a leader for each partition: until ctx's deadline, or for
// 30 s when ctx has none. Existing topics are left as they are.
func (a *Admin) EnsureTopics(ctx context.Context, specs ...TopicSpec) error {
	req := &kafka.CreateTopicsRequest{}
	for _, s := range specs {
		tc := kafka.TopicConfig{Topic: s.Name, NumPartitions: -1, ReplicationFactor: -1}
		if s.Partitions > 0 {
			tc.NumPartitions = s.Partitions
		}
		if s.ReplicationFactor > 0 {
			tc.ReplicationFactor = s.ReplicationFactor
		}
		for k, v := range s.Configs {
			tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
		}
		req.Topics = append(req.Topics, tc)
	}
	var res *kafka.CreateTopicsResponse
	err := a.via(ctx, func(addr net.Addr) (err error) {
		req.Addr = addr
		res, err = a.client.CreateTopics(ctx, req)
		return err
	})
	if err != nil {
		return fmt.Errorf("create topics: %w", a.explain(err))
	}
	for name, terr := range res.Errors {
		if terr != nil && !errors.Is(terr, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, terr)
		}
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return a.waitForLeaders(ctx, names)
}

func (a *Admin) waitForLeaders(ctx context.Context, topics []string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	for {
		md, err := a.metadata(ctx, topics)
		ready := err == nil
		if ready {
			for _, t := range md.Topics {
				if t.Error != nil || len(t.Partitions) == 0 {
					ready = false
				}
				for _, p := range t.Partitions {
					if p.Error != nil || p.Leader.Host == "" {
						ready = false
					}
				}
			}
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topics %v have no leader yet: %w", topics, errors.Join(ctx.Err(), err))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// via sends a request through each bootstrap broker in turn, beginning
// with the one that answered last, until one answers or fails for a reason
// other than a lost connection or a partition without a reachable leader
// (connLost, passing, kafka's Unknown): kafka-go itself moves to the next
// bootstrap address only when a dial fails, and a broker behind a proxy or a
// load balancer can accept the connection and reset it. Every failure also
// drops the client's cached cluster layout: kafka-go keeps the last layout a
// bootstrap broker gave while that broker cannot be asked again, and would
// route to a dead partition leader for ever. It returns the errors of every
// broker tried when none answered.
func (a *Admin) via(ctx context.Context, call func(addr net.Addr) error) error {
	brokers := a.cfg.Brokers()
	first := int(a.last.Load())
	var errs []error
	for i := range brokers {
		k := (first + i) % len(brokers)
		err := call(kafka.TCP(brokers[k]))
		if err == nil {
			a.last.Store(int32(k))
			return nil
		}
		a.tr.CloseIdleConnections()
		if !(passing(err) || errors.Is(err, kafka.Unknown)) || ctx.Err() != nil {
			return err
		}
		errs = append(errs, fmt.Errorf("%s: %w", brokers[k], err))
	}
	return errors.Join(errs...)
}

// metadata reads the metadata of topics through the first bootstrap broker
// that answers. kafka-go's transport answers metadata requests from a cache
// it refreshes at a random moment within MetadataTTL, so a topic created
// since the last refresh would look missing for up to that long (a view
// tailing a loader's new topic saw nothing for ten seconds). A topic the
// cache does not know is therefore asked of the broker again, on fresh
// connections, before it is reported missing.
func (a *Admin) metadata(ctx context.Context, topics []string) (*kafka.MetadataResponse, error) {
	md, err := a.metadataOnce(ctx, topics)
	if err != nil || !lacksTopic(md, topics) {
		return md, err
	}
	a.tr.CloseIdleConnections() // the next request starts from the broker's metadata
	return a.metadataOnce(ctx, topics)
}

func (a *Admin) metadataOnce(ctx context.Context, topics []string) (md *kafka.MetadataResponse, err error) {
	err = a.via(ctx, func(addr net.Addr) (err error) {
		md, err = a.client.Metadata(ctx, &kafka.MetadataRequest{Addr: addr, Topics: topics})
		return err
	})
	return md, err
}

// lacksTopic reports whether md is missing one of topics or calls it
// unknown.
func lacksTopic(md *kafka.MetadataResponse, topics []string) bool {
	known := map[string]bool{}
	for _, t := range md.Topics {
		known[t.Name] = !errors.Is(t.Error, kafka.UnknownTopicOrPartition)
	}
	for _, t := range topics {
		if !known[t] {
			return true
		}
	}
	return false
}

// Close releases the admin's connections and its transport's background
// metadata refresh.
func (a *Admin) Close() { a.tr.CloseIdleConnections() }

// Partitions returns the number of partitions of topic.
func (a *Admin) Partitions(ctx context.Context, topic string) (int, error) {
	md, err := a.metadata(ctx, []string{topic})
	if err != nil {
		return 0, a.explain(err)
	}
	for _, t := range md.Topics {
		if t.Name == topic {
			if t.Error != nil {
				return 0, fmt.Errorf("topic %s: %w", topic, t.Error)
			}
			return len(t.Partitions), nil
		}
	}
	return 0, fmt.Errorf("topic %s: not in metadata", topic)
}

// EndOffsets returns, for each partition of topic, the offset the next
// message written to it will get (its high-water mark).
func (a *Admin) EndOffsets(ctx context.Context, topic string) (map[int]int64, error) {
	return a.listOffsets(ctx, topic, kafka.LastOffsetOf, func(po kafka.PartitionOffsets) int64 { return po.LastOffset })
}

// StartOffsets returns, for each partition of topic, the offset of its oldest
// message still kept (its log start offset).
func (a *Admin) StartOffsets(ctx context.Context, topic string) (map[int]int64, error) {
	return a.listOffsets(ctx, topic, kafka.FirstOffsetOf, func(po kafka.PartitionOffsets) int64 { return po.FirstOffset })
}

func (a *Admin) listOffsets(ctx context.Context, topic string, req func(int) kafka.OffsetRequest,
	pick func(kafka.PartitionOffsets) int64) (map[int]int64, error) {
	// A topic created a moment ago may still be electing its leaders: that
	// passes, so it is retried for a while rather than reported.
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := a.listOffsetsOnce(ctx, topic, req, pick)
		if err == nil || !electing(err) || time.Now().After(deadline) {
			return out, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// electing reports errors that mean a partition has no leader yet.
func electing(err error) bool {
	return errors.Is(err, kafka.NotLeaderForPartition) || errors.Is(err, kafka.LeaderNotAvailable)
}

func (a *Admin) listOffsetsOnce(ctx context.Context, topic string, req func(int) kafka.OffsetRequest,
	pick func(kafka.PartitionOffsets) int64) (map[int]int64, error) {
	n, err := a.Partitions(ctx, topic)
	if err != nil {
		return nil, err
	}
	reqs := make([]kafka.OffsetRequest, n)
	for p := range n {
		reqs[p] = req(p)
	}
	var out map[int]int64
	err = a.via(ctx, func(addr net.Addr) error {
		res, err := a.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Addr: addr, Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
		if err != nil {
			return fmt.Errorf("list offsets of %s: %w", topic, a.explain(err))
		}
		out = make(map[int]int64, n)
		for _, po := range res.Topics[topic] {
			if po.Error != nil {
				// Its leader is gone or moved; another bootstrap broker's
				// layout may be current.
				return fmt.Errorf("list offsets of %s[%d]: %w", topic, po.Partition, po.Error)
			}
			out[po.Partition] = pick(po)
		}
		if len(out) != n {
			return fmt.Errorf("list offsets of %s: %d of %d partitions answered", topic, len(out), n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CommittedOffsets returns the offsets group has committed on each partition
// of topic; a partition without a commit is absent from the map.
func (a *Admin) CommittedOffsets(ctx context.Context, group, topic string) (map[int]int64, error) {
	n, err := a.Partitions(ctx, topic)
	if err != nil {
		return nil, err
	}
	parts := make([]int, n)
	for p := range n {
		parts[p] = p
	}
	var res *kafka.OffsetFetchResponse
	err = a.via(ctx, func(addr net.Addr) (err error) {
		res, err = a.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{Addr: addr, GroupID: group, Topics: map[string][]int{topic: parts}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("committed offsets of group %s on %s: %w", group, topic, a.explain(err))
	}
	out := map[int]int64{}
	if errors.Is(res.Error, kafka.GroupIdNotFound) {
		return out, nil // a group that never committed
	}
	if res.Error != nil {
		return nil, fmt.Errorf("committed offsets of group %s on %s: %w", group, topic, res.Error)
	}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("committed offset of group %s on %s[%d]: %w", group, topic, p.Partition, p.Error)
		}
		if p.CommittedOffset >= 0 {
			out[p.Partition] = p.CommittedOffset
		}
	}
	return out, nil
}

// Lag returns how many messages of topic group has not committed yet, in
// total over all partitions.
func (a *Admin) Lag(ctx context.Context, group, topic string) (int64, error) {
	end, err := a.EndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	committed, err := a.CommittedOffsets(ctx, group, topic)
	if err != nil {
		return 0, err
	}
	var lag int64
	for p, e := range end {
		if d := e - committed[p]; d > 0 {
			lag += d
		}
	}
	return lag, nil
}
