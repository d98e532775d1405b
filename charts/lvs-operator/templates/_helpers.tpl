{{/* Chart name, truncated to the 63 characters of a label value. */}}
{{- define "lvs-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Base name of every object: the release name, with the chart name unless it already holds it. */}}
{{- define "lvs-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "lvs-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; component-specific ones add app.kubernetes.io/component. */}}
{{- define "lvs-operator.labels" -}}
helm.sh/chart: {{ include "lvs-operator.chart" . }}
app.kubernetes.io/name: {{ include "lvs-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lvs-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod selector of one component (immutable in Deployments and DaemonSets: keep it small). */}}
{{- define "lvs-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lvs-operator.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "lvs-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "lvs-operator.controller.fullname" -}}
{{- printf "%s-controller" (include "lvs-operator.fullname" .) }}
{{- end }}

{{- define "lvs-operator.agent.fullname" -}}
{{- printf "%s-agent" (include "lvs-operator.fullname" .) }}
{{- end }}

{{- define "lvs-operator.controller.serviceAccountName" -}}
{{- default (include "lvs-operator.controller.fullname" .) .Values.controller.serviceAccount.name }}
{{- end }}

{{- define "lvs-operator.agent.serviceAccountName" -}}
{{- default (include "lvs-operator.agent.fullname" .) .Values.agent.serviceAccount.name }}
{{- end }}

{{- define "lvs-operator.controller.leaseName" -}}
{{- default (include "lvs-operator.controller.fullname" .) .Values.controller.leaderElection.leaseName }}
{{- end }}
