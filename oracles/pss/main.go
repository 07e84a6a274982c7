// Command pss evaluates every pod template in Kubernetes manifests against the Pod Security Standards
// "restricted" level with the upstream evaluator (k8s.io/pod-security-admission), and prints one JSON line per
// violation: {"resource": "Kind/namespace/name", "check": "...", "message": "..."}. It exits 0 either way; the
// caller decides. Arguments: manifest files (JSON or YAML, several documents per file allowed).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

type object struct {
	Kind     string            `json:"kind"`
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     json.RawMessage   `json:"spec"`
}

type podTemplate struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     corev1.PodSpec    `json:"spec"`
}

// podOf returns the pod metadata and spec of a workload, or false for kinds that run no pod.
func podOf(o object) (*metav1.ObjectMeta, *corev1.PodSpec, bool, error) {
	switch o.Kind {
	case "Pod":
		var spec corev1.PodSpec
		err := json.Unmarshal(o.Spec, &spec)
		return &o.Metadata, &spec, true, err
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		var s struct{ Template podTemplate `json:"template"` }
		err := json.Unmarshal(o.Spec, &s)
		return &s.Template.Metadata, &s.Template.Spec, true, err
	case "CronJob":
		var s struct {
			JobTemplate struct {
				Spec struct{ Template podTemplate `json:"template"` } `json:"spec"`
			} `json:"jobTemplate"`
		}
		err := json.Unmarshal(o.Spec, &s)
		return &s.JobTemplate.Spec.Template.Metadata, &s.JobTemplate.Spec.Template.Spec, true, err
	}
	return nil, nil, false, nil
}

func main() {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks())
	if err != nil {
		panic(err)
	}
	level := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	out := json.NewEncoder(os.Stdout)
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			panic(err)
		}
		decoder := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var o object
			if err := decoder.Decode(&o); err == io.EOF {
				break
			} else if err != nil {
				panic(fmt.Errorf("%s: %w", file, err))
			}
			meta, spec, isPod, err := podOf(o)
			if err != nil {
				panic(fmt.Errorf("%s: %s %s: %w", file, o.Kind, o.Metadata.Name, err))
			}
			if !isPod {
				continue
			}
			resource := fmt.Sprintf("%s/%s/%s", o.Kind, o.Metadata.Namespace, o.Metadata.Name)
			for _, result := range evaluator.EvaluatePod(level, meta, spec) {
				if !result.Allowed {
					_ = out.Encode(map[string]string{"resource": resource, "check": result.ForbiddenReason, "message": result.ForbiddenDetail})
				}
			}
		}
	}
}
