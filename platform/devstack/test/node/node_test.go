//go:build integration

// Package node runs Scenario 1 on a real Kubernetes node: queue-manager with
// LAUNCHER=kubernetes against the one-node cluster of platform/kube/node.sh
// (kubelet, containerd, scheduler, Job controller), every step a Job whose
// Pod runs the service's image from `make images-local` with the production
// security context (non-root, read-only root filesystem, no capabilities,
// the launcher's resource limits). The deploy overlay node-test is applied
// first; queue-manager itself runs on the host with the cluster's
// kubeconfig (see deploy/overlays/node-test for why).
//
// Needs, started beforehand (make test-integration does it):
//
//	platform/kube/node.sh start && make images-local
//	KAFKA_NODE_HOST=$NODE_IP platform/kafka/kafka.sh start
//	S3_HOST=$NODE_IP platform/s3/s3.sh start
//	eval "$(platform/kube/node.sh env)" "$(platform/kafka/kafka.sh env)" ...
package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/objstore/s3"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

var binDir string

func TestMain(m *testing.M) { os.Exit(stacktest.Main(m, &binDir)) }

const (
	namespace = "stf"
	// workerUID is the user the launcher runs every worker as.
	workerUID = 65532
)

// nodeEnv is what the servers' env commands export; the test skips when
// one is missing.
type nodeEnv struct {
	nodeIP, kafka, nodeKafka string
	s3                       objstore.Config
}

func requireNode(t *testing.T) nodeEnv {
	t.Helper()
	e := nodeEnv{nodeIP: os.Getenv("NODE_IP"), kafka: os.Getenv("KAFKA_IT_BOOTSTRAP"), nodeKafka: os.Getenv("KAFKA_IT_NODE_BOOTSTRAP")}
	switch {
	case os.Getenv("NODE_IT") != "1" || e.nodeIP == "":
		t.Skip("no Kubernetes node: run platform/kube/node.sh start, make images-local, and eval \"$(platform/kube/node.sh env)\"")
	case e.kafka == "" || e.nodeKafka == "":
		t.Skip("no Kafka listener on the node's bridge: start platform/kafka/kafka.sh with KAFKA_NODE_HOST=$NODE_IP and eval its env")
	case os.Getenv("S3_IT") != "1" || !strings.HasPrefix(os.Getenv("MINIO_ENDPOINT"), e.nodeIP+":"):
		t.Skip("no S3 server on the node's bridge: start platform/s3/s3.sh with S3_HOST=$NODE_IP and eval its env")
	}
	e.s3 = objstore.Config{Endpoint: os.Getenv("MINIO_ENDPOINT"), AccessKey: os.Getenv("MINIO_ACCESS_KEY"),
		SecretKey: os.Getenv("MINIO_SECRET_KEY"), Bucket: os.Getenv("MINIO_BUCKET"), OpenTimeout: 10 * time.Second}
	return e
}

// kubectl runs kubectl on the cluster of KUBECONFIG and returns its output.
func kubectl(ctx context.Context, t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// applyOverlay applies deploy/overlays/node-test and returns its
// queue-manager-config, the settings of the queue-manager this test runs.
func applyOverlay(ctx context.Context, t *testing.T) map[string]string {
	t.Helper()
	kustomize, err := exec.LookPath("kustomize")
	if err != nil {
		kustomize = filepath.Join("..", "..", "..", "..", ".cache", "bin", "kustomize")
	}
	manifests, err := exec.CommandContext(ctx, kustomize, "build", filepath.Join("..", "..", "..", "..", "deploy", "overlays", "node-test")).Output()
	if err != nil {
		t.Fatalf("kustomize build deploy/overlays/node-test: %v", err)
	}
	kubectl(ctx, t, manifests, "apply", "--server-side", "--force-conflicts", "-f", "-")
	dec := yaml.NewDecoder(bytes.NewReader(manifests))
	for {
		var obj struct {
			Kind     string `yaml:"kind"`
			Metadata struct{ Name string }
			Data     map[string]string `yaml:"data"`
		}
		if err := dec.Decode(&obj); err != nil {
			t.Fatalf("no ConfigMap queue-manager-config in the overlay: %v", err)
		}
		if obj.Kind == "ConfigMap" && obj.Metadata.Name == "queue-manager-config" {
			return obj.Data
		}
	}
}

// patch merges data into a ConfigMap's or Secret's data (stringData).
func patch(ctx context.Context, t *testing.T, kind, name, field string, data map[string]string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{field: data})
	kubectl(ctx, t, nil, "-n", namespace, "patch", kind, name, "--type", "merge", "-p", string(b))
}

// storeDir makes the directory every worker mounts at the launcher's
// StoreDir (through the claim): owned by the workers' user, with the SQLite file queue-manager
// opens first already theirs (SQLite gives the -wal and -shm files the
// database file's owner).
func storeDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "streamforge.db")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, db} {
		if err := os.Chown(p, workerUID, workerUID); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// storeVolume makes dir the PersistentVolume the overlay's claim
// streamforge-store binds to, and removes both when the test ends.
func storeVolume(ctx context.Context, t *testing.T, dir string) {
	t.Helper()
	const pv = "streamforge-store-node"
	del := func(ctx context.Context) {
		_ = exec.CommandContext(ctx, "kubectl", "-n", namespace, "delete", "jobs", "-l", "app.kubernetes.io/managed-by=queue-manager", "--wait=false").Run()
		_ = exec.CommandContext(ctx, "kubectl", "-n", namespace, "delete", "pvc", "streamforge-store", "--ignore-not-found", "--wait=false").Run()
		_ = exec.CommandContext(ctx, "kubectl", "patch", "pv", pv, "--type", "merge", "-p", `{"metadata":{"finalizers":null}}`).Run()
		_ = exec.CommandContext(ctx, "kubectl", "delete", "pv", pv, "--ignore-not-found", "--wait=false").Run()
	}
	t.Cleanup(func() { del(context.Background()) })
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolume",
		"metadata": map[string]any{"name": pv},
		"spec": map[string]any{
			"capacity":    map[string]string{"storage": "1Gi"},
			"accessModes": []string{"ReadWriteOnce"}, "storageClassName": "",
			"persistentVolumeReclaimPolicy": "Retain",
			"claimRef":                      map[string]string{"namespace": namespace, "name": "streamforge-store"},
			"hostPath":                      map[string]string{"path": dir, "type": "Directory"},
		},
	})
	kubectl(ctx, t, b, "apply", "-f", "-")
	deadline := time.Now().Add(30 * time.Second)
	for {
		phase := kubectl(ctx, t, nil, "-n", namespace, "get", "pvc", "streamforge-store", "-o", "jsonpath={.status.phase}")
		if phase == "Bound" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("claim streamforge-store is %q, not Bound to %s", phase, pv)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// up applies the overlay, starts queue-manager with its settings and
// LAUNCHER=kubernetes, and points the workers' ConfigMap at the host's
// servers.
func up(ctx context.Context, t *testing.T, e nodeEnv) (*stack.Stack, *sqlite.Store) {
	t.Helper()
	data := storeDir(t)
	// A claim left by an earlier run would stay bound to its volume; the
	// claim's protection holds it while any Pod of an earlier run, even a
	// finished one, still names it.
	_ = exec.CommandContext(ctx, "kubectl", "-n", namespace, "delete", "jobs", "-l", "app.kubernetes.io/managed-by=queue-manager", "--wait").Run()
	_ = exec.CommandContext(ctx, "kubectl", "-n", namespace, "delete", "pvc", "streamforge-store", "--ignore-not-found").Run()
	_ = exec.CommandContext(ctx, "kubectl", "delete", "pv", "streamforge-store-node", "--ignore-not-found").Run()
	qmConfig := applyOverlay(ctx, t)
	env := []string{
		fmt.Sprintf("EVENTS_GROUP=node-%d", time.Now().UnixNano()), "LAUNCHER=kubernetes",
		"KUBECONFIG=" + os.Getenv("KUBECONFIG"), "KUBE_NAMESPACE=" + namespace,
		"MINIO_ENDPOINT=" + e.s3.Endpoint, "MINIO_ACCESS_KEY=" + e.s3.AccessKey, "MINIO_SECRET_KEY=" + e.s3.SecretKey,
		"MINIO_BUCKET=" + e.s3.Bucket, "STEP_HEARTBEAT_TIMEOUT=60s",
	}
	for k, v := range qmConfig {
		switch {
		case strings.HasPrefix(k, "JOB_"), strings.HasPrefix(k, "STEP_"), k == "EXCHANGE_LOADERS", k == "MESSAGE_SIGNING":
			env = append(env, k+"="+v)
		}
	}
	storeVolume(ctx, t, data)
	s, err := stack.Up(ctx, stack.Options{BinDir: binDir, DataDir: data, APIAddr: stacktest.FreeAddr(t),
		Kafka: e.kafka, ExchangeAddr: e.nodeIP + ":0", TradeRate: 0.5, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stack log (last 6 KiB):\n%s", s.LogTail(6<<10))
			t.Logf("pods:\n%s", kubectl(context.Background(), t, nil, "-n", namespace, "get", "pods", "-o", "wide"))
		}
		s.Close()
	})
	ws := "ws" + strings.TrimPrefix(s.Exchange, "http")
	patch(ctx, t, "configmap", "streamforge-config", "data", map[string]string{
		"KAFKA_BOOTSTRAP_SERVERS": e.nodeKafka, "MINIO_ENDPOINT": e.s3.Endpoint, "MINIO_BUCKET": e.s3.Bucket,
		"BINANCE_REST_URL": s.Exchange, "BINANCE_ARCHIVE_URL": s.Exchange, "BINANCE_WS_URL": ws,
	})
	patch(ctx, t, "secret", "streamforge-secrets", "stringData", map[string]string{
		"MINIO_ACCESS_KEY": e.s3.AccessKey, "MINIO_SECRET_KEY": e.s3.SecretKey,
	})
	st, err := sqlite.Open(ctx, s.StorePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return s, st
}

// checkModel fails unless the workflow's model is in the S3 bucket.
func checkModel(ctx context.Context, t *testing.T, e nodeEnv, sum *scenario.Summary, timeRange string) {
	t.Helper()
	obj, err := s3.Open(ctx, e.s3)
	if err != nil {
		t.Fatal(err)
	}
	// The train result names the model by URL: s3://<bucket>/<key>.
	key, ok := strings.CutPrefix(sum.Train.Artifacts["model"], "s3://"+e.s3.Bucket+"/")
	if !ok {
		t.Fatalf("model %q is not in bucket %s", sum.Train.Artifacts["model"], e.s3.Bucket)
	}
	found := false
	for _, o := range mustList(ctx, t, obj, path.Dir(key)+"/") {
		found = found || o.Key == key
	}
	if !found {
		t.Fatalf("no %s in bucket %s", key, e.s3.Bucket)
	}
	rc, err := obj.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var model struct {
		Format     string `json:"format"`
		Provenance struct {
			TimeRange string `json:"time_range"`
		} `json:"provenance"`
	}
	if err := json.NewDecoder(rc).Decode(&model); err != nil || model.Format != "streamforge-gnn/1" || model.Provenance.TimeRange != timeRange {
		t.Errorf("s3 %s: %v %+v", key, err, model)
	}
}

func mustList(ctx context.Context, t *testing.T, obj objstore.Store, prefix string) []objstore.Object {
	t.Helper()
	l, err := obj.List(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Scenario 1 with every step a real Pod: the workflow finishes, the store
// holds exactly the simulator's records, the model is in S3.
func TestNodeScenario1(t *testing.T) {
	e := requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	s, st := up(ctx, t, e)

	const timeRange = "2026-10-01:2026-10-04"
	var out bytes.Buffer
	req := scenario.TrainRequest("BTCUSDT", timeRange, map[string]string{"GNN_EPOCHS": "10"})
	sum, err := scenario.Run(ctx, &scenario.Client{API: s.API}, req, &scenario.Board{Out: &out, Every: time.Second}, st)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	sum.Print(&out)
	t.Logf("Scenario 1 on Pods (%s): %s\n%s", timeRange, sum.Took.Round(time.Millisecond), out.String())
	stacktest.CheckStored(t, s, sum, timeRange)
	checkModel(ctx, t, e, sum, timeRange)
	// Every step ran as a Pod of the node, and each exited 0.
	kubectl(ctx, t, nil, "-n", namespace, "wait", "--for=condition=complete", "--timeout=120s", "job", "-l", "app.kubernetes.io/managed-by=queue-manager")
	pods := kubectl(ctx, t, nil, "-n", namespace, "get", "pods", "-l", "app.kubernetes.io/managed-by=queue-manager",
		"-o", "jsonpath={range .items[*]}{.metadata.labels.app\\.kubernetes\\.io/name} {.status.phase}{\"\\n\"}{end}")
	for _, svc := range []string{"loader-producer", "arango-connector", "graph-builder", "gnn-trainer"} {
		if !strings.Contains(pods, svc+" Succeeded") {
			t.Errorf("no Succeeded Pod of %s:\n%s", svc, pods)
		}
	}
}
