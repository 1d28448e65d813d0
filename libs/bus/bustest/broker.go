package bustest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
)

// Broker is a real Apache Kafka broker of one test, started by
// platform/kafka/kafka.sh in a home of its own on free ports, so that the
// test may stop it without disturbing the shared broker of the other tests.
type Broker struct {
	script string
	env    []string
	addr   string
	sasl   string // the SASL_PLAINTEXT listener
}

// BrokerOptions are the optional settings of a dedicated broker.
type BrokerOptions struct {
	// AdvertisedPort is the PLAINTEXT port the broker gives its clients
	// (a proxy in front of it); 0 advertises its own.
	AdvertisedPort int
	// Authorizer turns on KRaft's StandardAuthorizer: on the SASL listener
	// a user may do only what ACLs (Allow) grant it; the PLAINTEXT listener
	// (Config) stays a super user's.
	Authorizer bool
	// Users are SCRAM-SHA-512 users, name to password, for SASLConfig.
	Users map[string]string
}

// Dedicated starts a broker for the test alone and stops it when the test
// ends. Its jars are those of the shared broker (KAFKA_HOME, else the
// repository's .cache/kafka), linked into a temporary home. The test is
// skipped when Java or the jars are absent.
func Dedicated(t testing.TB, o BrokerOptions) *Broker {
	t.Helper()
	root, home := kafkaHome(t)
	ports, err := freePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	advertised := ports[0]
	if o.AdvertisedPort != 0 {
		advertised = o.AdvertisedPort
	}
	b := &Broker{
		script: filepath.Join(root, "platform", "kafka", "kafka.sh"),
		env: append(os.Environ(), "KAFKA_HOME="+home, "KAFKA_PORT="+strconv.Itoa(ports[0]),
			"KAFKA_SASL_PORT="+strconv.Itoa(ports[1]), "KAFKA_CONTROLLER_PORT="+strconv.Itoa(ports[2]),
			"KAFKA_ADVERTISED_PORT="+strconv.Itoa(advertised), "KAFKA_AUTHORIZER="+strconv.FormatBool(o.Authorizer),
			"KAFKA_SCRAM_USERS="+scramUsers(o.Users)),
		addr: "127.0.0.1:" + strconv.Itoa(ports[0]),
		sasl: "127.0.0.1:" + strconv.Itoa(ports[1]),
	}
	t.Cleanup(func() {
		if err := b.run("stop"); err != nil {
			t.Error(err)
		}
	})
	if err := b.run("start"); err != nil {
		t.Fatal(err)
	}
	return b
}

// Addr is the address the broker listens on (PLAINTEXT).
func (b *Broker) Addr() string { return b.addr }

// Config returns client settings for the broker's PLAINTEXT listener.
func (b *Broker) Config() bus.Config {
	return bus.Config{BootstrapServers: b.addr, SecurityProtocol: bus.Plaintext, SASLMechanism: bus.ScramSHA512, DialTimeout: 10 * time.Second}
}

// Stop stops the broker; its data stays for Resume.
func (b *Broker) Stop(t testing.TB) {
	t.Helper()
	if err := b.run("stop"); err != nil {
		t.Fatal(err)
	}
}

// Resume starts the stopped broker again on its data: same cluster,
// topics and committed offsets.
func (b *Broker) Resume(t testing.TB) {
	t.Helper()
	if err := b.run("resume"); err != nil {
		t.Fatal(err)
	}
}

func (b *Broker) run(cmd string) error {
	c := exec.Command(b.script, cmd)
	c.Env = b.env
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("kafka.sh %s: %w\n%s", cmd, err, out)
	}
	return nil
}

// kafkaHome returns the repository root and a temporary KAFKA_HOME whose lib
// links the jars of the shared broker (KAFKA_HOME, else the repository's
// .cache/kafka). It skips the test when Java or the jars are absent.
func kafkaHome(t testing.TB) (root, home string) {
	t.Helper()
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("java not found: a dedicated Kafka broker needs Java 17+")
	}
	root, err := repoRoot()
	if err != nil {
		t.Skip(err.Error())
	}
	lib := filepath.Join(envOr("KAFKA_HOME", filepath.Join(root, ".cache", "kafka")), "lib")
	jars, _ := filepath.Glob(filepath.Join(lib, "kafka_2.13-*.jar"))
	if _, err := os.Stat(filepath.Join(lib, ".fetched")); err != nil || len(jars) == 0 {
		t.Skipf("no Kafka jars in %s: run platform/kafka/kafka.sh fetch", lib)
	}
	home = t.TempDir()
	if err := linkJars(lib, filepath.Join(home, "lib")); err != nil {
		t.Fatal(err)
	}
	return root, home
}

// repoRoot is the nearest directory above the working directory that holds
// platform/kafka/kafka.sh.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "platform", "kafka", "kafka.sh")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("platform/kafka/kafka.sh not found above the working directory")
		}
		dir = up
	}
}

// linkJars links every file of lib (the jars and the stamp kafka.sh checks)
// into dir.
func linkJars(lib, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(lib)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Symlink(filepath.Join(lib, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// freePorts returns n loopback ports nobody listens on now.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
