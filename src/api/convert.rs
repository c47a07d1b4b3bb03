//! Conversions between proto messages and domain values.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use kpilink_connector::{ConnectorFactory, SourceRef};
use secrecy::SecretString;

use crate::discovery::{ChartView, Preview};
use crate::error::{Error, Reason, Result};
use crate::proto;
use crate::selection::{Format, Selection, XChoice};
use crate::store::{
    BindingRecord, BindingState, ConnectionRecord, ConnectionTestRecord, HistoryRecord,
    StatusRecord, UpdateRecord,
};
use crate::time::to_timestamp;

pub(super) fn connection(record: ConnectionRecord) -> proto::Connection {
    proto::Connection {
        secrets_set: record.secrets.keys().cloned().collect(),
        id: record.id,
        org_id: record.org_id,
        display_name: record.display_name,
        kind: record.kind,
        settings: record.settings.into_iter().collect(),
        secrets: HashMap::new(),
        query_timeout: Some(duration_to_proto(Duration::from_millis(
            record.query_timeout_ms,
        ))),
        create_time: Some(to_timestamp(record.create_time)),
        update_time: Some(to_timestamp(record.update_time)),
        last_test: record.last_test.map(test_result),
    }
}

pub(super) fn test_result(test: ConnectionTestRecord) -> proto::ConnectionTestResult {
    proto::ConnectionTestResult {
        test_time: Some(to_timestamp(test.test_time)),
        success: test.success,
        reason: test.reason,
        message: test.message,
        latency: Some(duration_to_proto(Duration::from_millis(test.latency_ms))),
        outcome: proto::ConnectionTestOutcome::from_str_name(&format!(
            "CONNECTION_TEST_OUTCOME_{}",
            test.outcome
        ))
        .unwrap_or(proto::ConnectionTestOutcome::Unspecified) as i32,
        source_version: test.source_version.unwrap_or_default(),
    }
}

pub(super) fn connector_kind(factory: &dyn ConnectorFactory) -> proto::ConnectorKind {
    proto::ConnectorKind {
        kind: factory.kind().to_owned(),
        display_name: factory.display_name().to_owned(),
        description: factory.description().to_owned(),
        settings: factory
            .settings()
            .iter()
            .map(|spec| proto::SettingSpec {
                name: spec.name.to_owned(),
                label: spec.label.to_owned(),
                required: spec.required,
                secret: spec.secret,
                description: spec.description.to_owned(),
                example: spec.example.to_owned(),
            })
            .collect(),
    }
}

pub(super) fn settings(map: HashMap<String, String>) -> BTreeMap<String, String> {
    map.into_iter().collect()
}

pub(super) fn secrets(map: HashMap<String, String>) -> BTreeMap<String, SecretString> {
    map.into_iter()
        .map(|(name, value)| (name, SecretString::from(value)))
        .collect()
}

/// A proto duration as a std one; `field` names it in the error.
pub(super) fn duration(field: &str, value: &prost_types::Duration) -> Result<Duration> {
    if value.seconds < 0 || value.nanos < 0 || value.nanos >= 1_000_000_000 {
        return Err(Error::field(
            field,
            Reason::FieldInvalid,
            "must be a positive duration",
        ));
    }
    Ok(Duration::new(value.seconds as u64, value.nanos as u32))
}

pub(super) fn optional_duration(
    field: &str,
    value: Option<&prost_types::Duration>,
) -> Result<Option<Duration>> {
    value.map(|value| duration(field, value)).transpose()
}

pub(super) fn duration_to_proto(duration: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: duration.as_secs() as i64,
        nanos: duration.subsec_nanos() as i32,
    }
}

pub(super) fn dashboard(d: kpilink_connector::DashboardSummary) -> proto::Dashboard {
    proto::Dashboard {
        id: d.id,
        title: d.title,
        folder: d.folder.unwrap_or_default(),
        description: d.description.unwrap_or_default(),
    }
}

pub(super) fn look(l: kpilink_connector::LookSummary) -> proto::Look {
    proto::Look {
        id: l.id,
        title: l.title,
        folder: l.folder.unwrap_or_default(),
        description: l.description.unwrap_or_default(),
    }
}

pub(super) fn tile(t: kpilink_connector::TileSummary) -> proto::Tile {
    proto::Tile {
        id: t.id,
        title: t.title,
        chart_type: t.chart_type,
        supported: t.unsupported_reason.is_none(),
        unsupported_reason: t.unsupported_reason.unwrap_or_default(),
        look_id: t.look_id.unwrap_or_default(),
        listens_to_filters: t.listens_to_filters,
    }
}

/// The request's source; `FIELD_REQUIRED` when absent.
pub(super) fn source_ref(source: Option<&proto::Source>) -> Result<SourceRef> {
    match source.and_then(|s| s.source.as_ref()) {
        Some(proto::source::Source::DashboardTile(tile)) => Ok(SourceRef::DashboardTile {
            dashboard_id: tile.dashboard_id.clone(),
            tile_id: tile.tile_id.clone(),
        }),
        Some(proto::source::Source::Look(look)) => Ok(SourceRef::Look {
            look_id: look.look_id.clone(),
        }),
        None => Err(Error::field(
            "source",
            Reason::FieldRequired,
            "set source.dashboard_tile {dashboard_id, tile_id} or source.look {look_id}",
        )),
    }
}

/// Empty parts mean "the chart's default".
pub(super) fn selection(selection: Option<&proto::Selection>) -> Selection {
    let Some(s) = selection else {
        return Selection::default();
    };
    let non_empty = |text: &str| Some(text.to_owned()).filter(|t| !t.is_empty());
    Selection {
        x_field: non_empty(&s.x_field),
        x: match &s.x {
            Some(proto::selection::X::XValue(value)) if !value.is_empty() => {
                XChoice::Value(value.clone())
            }
            Some(proto::selection::X::Latest(true)) => XChoice::Latest,
            _ => XChoice::Default,
        },
        y_field: non_empty(&s.y_field),
        pivot_key: non_empty(&s.pivot_key),
        format: match s.format() {
            proto::ResultFormat::Percentage => Format::Percentage,
            proto::ResultFormat::Exact | proto::ResultFormat::Unspecified => Format::Exact,
        },
    }
}

pub(super) fn selection_to_proto(selection: &Selection) -> proto::Selection {
    proto::Selection {
        x_field: selection.x_field.clone().unwrap_or_default(),
        x: match &selection.x {
            XChoice::Default => None,
            XChoice::Value(value) => Some(proto::selection::X::XValue(value.clone())),
            XChoice::Latest => Some(proto::selection::X::Latest(true)),
        },
        y_field: selection.y_field.clone().unwrap_or_default(),
        pivot_key: selection.pivot_key.clone().unwrap_or_default(),
        format: match selection.format {
            Format::Exact => proto::ResultFormat::Exact,
            Format::Percentage => proto::ResultFormat::Percentage,
        } as i32,
    }
}

pub(super) fn system_time(time: SystemTime) -> prost_types::Timestamp {
    prost_types::Timestamp::from(time)
}

pub(super) fn chart_description(view: ChartView) -> proto::DescribeChartResponse {
    let ChartView {
        chart,
        description,
        data_as_of,
    } = view;
    let mut response = proto::DescribeChartResponse {
        title: chart.title,
        chart_type: chart.chart_type,
        supported: chart.unsupported_reason.is_none(),
        unsupported_reason: chart.unsupported_reason.unwrap_or_default(),
        data_as_of: Some(system_time(data_as_of)),
        ..Default::default()
    };
    let Some(d) = description else {
        return response;
    };
    response.x_axis = Some(proto::XAxis {
        label: d.x_label,
        fields: d
            .x_fields
            .into_iter()
            .map(|f| proto::XField {
                name: f.name,
                label: f.label,
                is_time: f.is_time,
                timeframe: f.timeframe.unwrap_or_default(),
            })
            .collect(),
        values: d
            .x_values
            .into_iter()
            .map(|(key, label)| proto::AxisValue { key, label })
            .collect(),
    });
    response.y_axis = Some(proto::YAxis {
        label: d.y_label,
        fields: d
            .y_fields
            .into_iter()
            .map(|f| proto::YField {
                name: f.name,
                label: f.label,
                value_format: f.value_format.unwrap_or_default(),
                is_percent: f.is_percent,
                category: f.category.to_owned(),
                is_pivoted: f.is_pivoted,
            })
            .collect(),
    });
    response.pivots = d
        .pivots
        .into_iter()
        .map(|p| proto::Pivot {
            key: p.key,
            label: p.label,
            is_total: p.is_total,
        })
        .collect();
    response.latest_supported = d.latest_supported;
    response.default_selection = d.default_selection.as_ref().map(selection_to_proto);
    response
}

pub(super) fn preview(preview: Preview) -> proto::PreviewValueResponse {
    let reading = preview.reading;
    proto::PreviewValueResponse {
        value: reading.value.to_f64(),
        exact_value: reading.value.to_string(),
        explanation: Some(proto::Explanation {
            text: reading.explanation(),
            x_field: reading.x_field.clone().unwrap_or_default(),
            x_value: reading.x_value.clone().unwrap_or_default(),
            y_field: reading.y_field.clone(),
            y_label: reading.y_label.clone(),
            pivot_key: reading.pivot_key.clone().unwrap_or_default(),
            raw: reading.raw.clone(),
            rendered: reading.rendered.clone().unwrap_or_default(),
            format: match reading.format {
                Format::Exact => proto::ResultFormat::Exact,
                Format::Percentage => proto::ResultFormat::Percentage,
            } as i32,
            skipped_periods: reading.skipped_periods.clone(),
        }),
        warnings: reading
            .warnings
            .iter()
            .map(|w| proto::Warning {
                code: w.code.to_owned(),
                message: w.message.clone(),
            })
            .collect(),
        data_as_of: Some(system_time(preview.data_as_of)),
        from_cache: preview.from_cache,
        resolved_selection: Some(selection_to_proto(&reading.resolved)),
    }
}

fn state(state: BindingState) -> proto::BindingState {
    match state {
        BindingState::Ok => proto::BindingState::Ok,
        BindingState::Pending => proto::BindingState::Pending,
        BindingState::Error => proto::BindingState::Error,
        BindingState::Broken => proto::BindingState::Broken,
        BindingState::Disabled => proto::BindingState::Disabled,
    }
}

pub(super) fn state_filter(state: proto::BindingState) -> Option<BindingState> {
    match state {
        proto::BindingState::Unspecified => None,
        proto::BindingState::Ok => Some(BindingState::Ok),
        proto::BindingState::Pending => Some(BindingState::Pending),
        proto::BindingState::Error => Some(BindingState::Error),
        proto::BindingState::Broken => Some(BindingState::Broken),
        proto::BindingState::Disabled => Some(BindingState::Disabled),
    }
}

fn status(status: StatusRecord) -> proto::BindingStatus {
    proto::BindingStatus {
        state: state(status.state) as i32,
        reason: status.reason,
        message: status.message,
        since: Some(to_timestamp(status.since)),
    }
}

fn number(exact: &str) -> f64 {
    exact.parse().unwrap_or(f64::NAN)
}

fn source_proto(source: &SourceRef) -> proto::Source {
    let inner = match source {
        SourceRef::DashboardTile {
            dashboard_id,
            tile_id,
        } => proto::source::Source::DashboardTile(proto::DashboardTileRef {
            dashboard_id: dashboard_id.clone(),
            tile_id: tile_id.clone(),
        }),
        SourceRef::Look { look_id } => proto::source::Source::Look(proto::LookRef {
            look_id: look_id.clone(),
        }),
    };
    proto::Source {
        source: Some(inner),
    }
}

pub(super) fn binding(record: BindingRecord) -> proto::Binding {
    proto::Binding {
        source: Some(source_proto(&record.source)),
        selection: Some(selection_to_proto(&record.selection)),
        sync_interval: Some(duration_to_proto(Duration::from_millis(
            record.sync_interval_ms,
        ))),
        current: record.current.map(|v| proto::CurrentValue {
            value: number(&v.exact),
            exact_value: v.exact,
            raw: v.raw,
            rendered: v.rendered.unwrap_or_default(),
            data_as_of: v.data_as_of.map(to_timestamp),
            fetched_at: Some(to_timestamp(v.fetched_at)),
            from_cache: v.from_cache,
        }),
        status: Some(status(record.status)),
        last_sync_time: record.last_sync_time.map(to_timestamp),
        next_sync_time: record.next_sync_time.map(to_timestamp),
        create_time: Some(to_timestamp(record.create_time)),
        update_time: Some(to_timestamp(record.update_time)),
        id: record.id,
        org_id: record.org_id,
        key_result_id: record.key_result_id,
        connection_id: record.connection_id,
        enabled: record.enabled,
    }
}

pub(super) fn history_entry(entry: HistoryRecord) -> proto::HistoryEntry {
    let v = entry.value;
    proto::HistoryEntry {
        value: number(&v.exact),
        exact_value: v.exact,
        raw: v.raw,
        rendered: v.rendered.unwrap_or_default(),
        fetched_at: Some(to_timestamp(v.fetched_at)),
        data_as_of: v.data_as_of.map(to_timestamp),
        from_cache: v.from_cache,
        x_value: v.x_value.unwrap_or_default(),
        y_field: v.y_field,
        pivot_key: v.pivot_key.unwrap_or_default(),
        backfilled: entry.backfilled,
    }
}

pub(super) fn update(event: UpdateRecord) -> proto::BindingUpdate {
    proto::BindingUpdate {
        sequence: event.sequence,
        value: event.value.as_deref().map(number),
        previous_value: event.previous_value.as_deref().map(number),
        status: Some(status(event.status)),
        observed_at: Some(to_timestamp(event.observed_at)),
        exact_value: event.value.clone().unwrap_or_default(),
        previous_exact_value: event.previous_value.clone().unwrap_or_default(),
        org_id: event.org_id,
        binding_id: event.binding_id,
        key_result_id: event.key_result_id,
    }
}
