package protocol

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The services' Kafka access (services.go) against its two mirrors: the
// Strimzi KafkaUsers in platform/strimzi and the Kafka calls in the
// services' code. Regenerate the KafkaUsers after changing the table:
//
//	make generate

const (
	repoRoot   = "../.."
	usersFile  = repoRoot + "/platform/strimzi/kafka-users.yaml"
	topicsFile = repoRoot + "/platform/strimzi/topics.yaml"
	modPrefix  = "github.com/streamforge/streamforge/"
)

func TestKafkaUsersMatchAccess(t *testing.T) {
	docs := readYAML(t, usersFile)
	got := map[string][]ACL{}
	for _, d := range docs {
		var u struct {
			Kind     string
			Metadata struct {
				Name   string
				Labels map[string]string
			}
			Spec struct {
				Authentication struct{ Type string }
				Authorization  struct {
					Type string
					ACLs []struct {
						Type     string
						Host     string
						Resource struct {
							Type, Name  string
							PatternType string `yaml:"patternType"`
						}
						Ops []string `yaml:"operations"`
					} `yaml:"acls"`
				}
			}
		}
		if err := d.Decode(&u); err != nil {
			t.Fatal(err)
		}
		name := u.Metadata.Name
		if u.Kind != "KafkaUser" || u.Spec.Authentication.Type != "scram-sha-512" || u.Spec.Authorization.Type != "simple" {
			t.Errorf("%s: want a KafkaUser with scram-sha-512 authentication and simple authorization", name)
		}
		if u.Metadata.Labels["strimzi.io/cluster"] == "" {
			t.Errorf("%s: no strimzi.io/cluster label", name)
		}
		acls := []ACL{}
		for _, a := range u.Spec.Authorization.ACLs {
			if (a.Type != "" && a.Type != "allow") || (a.Host != "" && a.Host != "*") {
				t.Errorf("%s: only allow rules from any host are expected, got type %q host %q", name, a.Type, a.Host)
			}
			pt := a.Resource.PatternType
			if pt == "" {
				pt = "literal"
			}
			acls = append(acls, ACL{Type: a.Resource.Type, Name: a.Resource.Name, PatternType: pt, Operations: a.Ops})
		}
		if _, dup := got[name]; dup {
			t.Errorf("%s: defined twice", name)
		}
		got[name] = acls
	}
	for _, s := range Services {
		want := s.ACLs()
		if want == nil {
			want = []ACL{}
		}
		name := s.KafkaUser()
		have, ok := got[name]
		if !ok {
			t.Errorf("%s: no KafkaUser in %s (run make generate)", name, usersFile)
			continue
		}
		delete(got, name)
		if !reflect.DeepEqual(canon(have), canon(want)) {
			t.Errorf("%s: ACLs differ from the services table (run make generate)\n have %v\n want %v", name, have, want)
		}
	}
	for name := range got {
		t.Errorf("%s: KafkaUser without an entry in the services table", name)
	}
}

func canon(acls []ACL) []ACL {
	out := slices.Clone(acls)
	for i := range out {
		out[i].Operations = slices.Sorted(slices.Values(out[i].Operations))
	}
	slices.SortFunc(out, func(a, b ACL) int { return strings.Compare(a.Type+" "+a.Name, b.Type+" "+b.Name) })
	return out
}

func readYAML(t *testing.T, path string) []*yaml.Node {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, &n)
	}
}

// codeFacts is what a binary's code does on Kafka, found by walking the
// syntax of every StreamForge package it imports (not its tests).
type codeFacts struct {
	ControlRead, ControlWrite, EventsRead, EventsWrite, Group, Create, Data bool
}

func (s Service) facts() codeFacts {
	var f codeFacts
	for _, t := range s.Topics {
		switch {
		case t.Name == TopicControl && !t.Prefix:
			f.ControlRead, f.ControlWrite = f.ControlRead || t.Read, f.ControlWrite || t.Write
		case t.Name == TopicEvents && !t.Prefix:
			f.EventsRead, f.EventsWrite = f.EventsRead || t.Read, f.EventsWrite || t.Write
		case t.Name == WorkflowPrefix && t.Prefix:
			f.Data = true
		}
		f.Create = f.Create || t.Create
	}
	f.Group = len(s.Groups) > 0
	return f
}

// kafkaIO are the calls that touch a topic whose name a file computes.
var kafkaIO = map[string]bool{"Send": true, "Publish": true, "NewConsumer": true, "NewTail": true, "ReadRange": true,
	"EnsureTopics": true, "StartOffsets": true, "EndOffsets": true, "Start": true}

func scanBinary(t *testing.T, dir string) (codeFacts, []string) {
	var f codeFacts
	var problems []string
	seen := map[string]bool{}
	queue := []string{dir}
	fset := token.NewFileSet()
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d] {
			continue
		}
		seen[d] = true
		files, _ := filepath.Glob(filepath.Join(repoRoot, d, "*.go"))
		if len(files) == 0 {
			t.Fatalf("%s: no Go files", d)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range file.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if rel, ok := strings.CutPrefix(p, modPrefix); ok && !namesOnly(file, rel) {
					queue = append(queue, rel)
				}
			}
			data, io := false, false
			ast.Inspect(file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					x, _ := n.X.(*ast.Ident)
					switch {
					case n.Sel.Name == "KafkaTopic" || (x != nil && x.Name == "protocol" && (n.Sel.Name == "DataTopic" || n.Sel.Name == "DLQTopic")):
						data = true
					case x != nil && x.Name == "protocol" && strings.HasPrefix(n.Sel.Name, "Topic") &&
						n.Sel.Name != "TopicControl" && n.Sel.Name != "TopicEvents":
						problems = append(problems, fmt.Sprintf("%s: protocol.%s is a topic the access table does not know", fset.Position(n.Pos()), n.Sel.Name))
					}
				case *ast.CallExpr:
					name, pkg := callee(n.Fun)
					io = io || kafkaIO[name]
					control, events := argTopics(n.Args)
					switch name {
					case "NewTail":
						f.ControlRead, f.EventsRead = f.ControlRead || control, f.EventsRead || events
					case "NewConsumer":
						f.Group, f.EventsRead = true, f.EventsRead || events
					case "Publish":
						f.ControlWrite, f.EventsWrite = f.ControlWrite || control, f.EventsWrite || events
					case "EnsureTopics":
						f.Create = true
					case "New":
						f.EventsWrite = f.EventsWrite || pkg == "telemetry" // the queue-events emitter
					}
				}
				return true
			})
			f.Data = f.Data || (data && io)
		}
	}
	return f, problems
}

// pureHelpers are functions of Kafka-using packages that touch no topic: a
// file that uses nothing else from the package does not take on its access.
var pureHelpers = map[string][]string{"libs/loader": {"ParseDataType"}}

func namesOnly(file *ast.File, rel string) bool {
	allowed, ok := pureHelpers[rel]
	if !ok {
		return false
	}
	only := true
	ast.Inspect(file, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := s.X.(*ast.Ident); ok && x.Name == filepath.Base(rel) && !slices.Contains(allowed, s.Sel.Name) {
				only = false
			}
		}
		return true
	})
	return only
}

func callee(fun ast.Expr) (name, pkg string) {
	switch fn := fun.(type) {
	case *ast.Ident:
		return fn.Name, ""
	case *ast.SelectorExpr:
		if x, ok := fn.X.(*ast.Ident); ok {
			pkg = x.Name
		}
		return fn.Sel.Name, pkg
	case *ast.IndexExpr: // generic instantiation
		return callee(fn.X)
	}
	return "", ""
}

func argTopics(args []ast.Expr) (control, events bool) {
	for _, a := range args {
		ast.Inspect(a, func(n ast.Node) bool {
			if s, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := s.X.(*ast.Ident); ok && x.Name == "protocol" {
					control = control || s.Sel.Name == "TopicControl"
					events = events || s.Sel.Name == "TopicEvents"
				}
			}
			return true
		})
	}
	return control, events
}

func TestAccessMatchesCode(t *testing.T) {
	services, err := filepath.Glob(filepath.Join(repoRoot, "services", "*", "go.mod"))
	if err != nil || len(services) == 0 {
		t.Fatalf("no services found: %v", err)
	}
	known := map[string]bool{}
	for _, s := range Services {
		known[s.Name] = true
	}
	for _, m := range services {
		if svc := filepath.Base(filepath.Dir(m)); !known[svc] {
			t.Errorf("service %s has no entry in the services table", svc)
		}
	}
	for _, s := range Services {
		t.Run(s.Name, func(t *testing.T) {
			code, problems := scanBinary(t, s.Main())
			for _, p := range problems {
				t.Error(p)
			}
			want := s.facts()
			if code.Create && !want.Create && s.NoCreate != "" {
				code.Create = false // deliberately not granted
			}
			if code != want {
				t.Errorf("the code does %+v\nthe access table grants %+v", code, want)
			}
		})
	}
}

// TestAccessNames checks the names in the table that the code spells on its
// own: the consumer groups and the workflow prefix. The services' own tests
// check their code against the table too (queue-manager's EVENTS_GROUP
// default, arango-connector's derived group).
func TestAccessNames(t *testing.T) {
	if q := (QueueID{Symbol: "BTCUSDT", Type: "api_candles_5m", Day: time.Now(), Suffix: "a1b2c3"}).String(); !strings.HasPrefix(q, WorkflowPrefix) {
		t.Errorf("queue id %s does not start with %s", q, WorkflowPrefix)
	}
	groupOf := func(svc string) Group {
		for _, s := range Services {
			if s.Name == svc && len(s.Groups) == 1 {
				return s.Groups[0]
			}
		}
		t.Fatalf("%s: want exactly one group in the table", svc)
		return Group{}
	}
	if def := configDoc(t)["queue-manager"]["EVENTS_GROUP"]; (groupOf("queue-manager") != Group{Name: def.def}) {
		t.Errorf("queue-manager's EVENTS_GROUP default %q is not the table's group %+v", def.def, groupOf("queue-manager"))
	}
	if def := configDoc(t)["arango-connector"]["CONNECTOR_GROUP"]; !strings.Contains(def.meaning, "(default arango-connector-<queue_id>)") {
		t.Errorf("arango-connector's CONNECTOR_GROUP says %q: its default group is no longer arango-connector-<queue_id>: update the table", def.meaning)
	}
	if (groupOf("arango-connector") != Group{Name: "arango-connector-" + WorkflowPrefix, Prefix: true}) {
		t.Errorf("arango-connector's group is %+v", groupOf("arango-connector"))
	}
}

// TestServiceTopics checks platform/strimzi/topics.yaml: exactly the two
// service topics, kept longer than any worker looks back at start.
func TestServiceTopics(t *testing.T) {
	var lookback time.Duration
	for svc, vars := range configDoc(t) {
		if v, ok := vars["CONTROL_LOOKBACK"]; ok {
			d, err := time.ParseDuration(v.def)
			if err != nil {
				t.Fatalf("%s: CONTROL_LOOKBACK default %q: %v", svc, v.def, err)
			}
			lookback = max(lookback, d)
		}
	}
	if lookback == 0 {
		t.Fatal("no CONTROL_LOOKBACK default in " + configDocFile)
	}
	names := map[string]bool{}
	for _, d := range readYAML(t, topicsFile) {
		var kt struct {
			Kind     string
			Metadata struct{ Name string }
			Spec     struct {
				Partitions, Replicas int
				Config               map[string]any
			}
		}
		if err := d.Decode(&kt); err != nil {
			t.Fatal(err)
		}
		names[kt.Metadata.Name] = true
		ms, _ := kt.Spec.Config["retention.ms"].(int)
		if time.Duration(ms)*time.Millisecond < lookback {
			t.Errorf("%s: retention.ms %d is shorter than the longest CONTROL_LOOKBACK default %s", kt.Metadata.Name, ms, lookback)
		}
		if kt.Spec.Partitions < 1 || kt.Spec.Replicas < 1 {
			t.Errorf("%s: partitions and replicas must be set", kt.Metadata.Name)
		}
	}
	if !reflect.DeepEqual(names, map[string]bool{TopicControl: true, TopicEvents: true}) {
		t.Errorf("topics.yaml defines %v, want %s and %s", names, TopicControl, TopicEvents)
	}
}

// configDocFile is generated from every binary's --help; a smoke test in
// platform/devstack fails when it differs from them.
const configDocFile = "docs/configuration.md"

// configVar is one row of configDocFile.
type configVar struct{ def, meaning string }

// configDoc reads configDocFile: each service's variables, by name.
func configDoc(t *testing.T) map[string]map[string]configVar {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, configDocFile))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]configVar{}
	var svc string
	row := regexp.MustCompile("^\\| `([A-Z0-9_]+)` \\| (?:`([^`]*)`)? *\\|[^|]*\\| (.*) \\|$")
	for line := range strings.SplitSeq(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "## "); ok {
			svc = name
			out[svc] = map[string]configVar{}
		} else if m := row.FindStringSubmatch(line); m != nil && svc != "" {
			out[svc][m[1]] = configVar{def: m[2], meaning: m[3]}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no service sections", configDocFile)
	}
	return out
}
