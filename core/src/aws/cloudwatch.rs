//! CloudWatch metrics of the fleet: each server publishes what it hosts (`PutMetricData`) in
//! [`FLEET_METRICS_NAMESPACE`] with the `AutoScalingGroupName` dimension, and the group scales
//! on their average (the fleet module's target-tracking policy). `GetMetricStatistics` reads
//! them back (the sandbox's target tracking, tests). Both go through the signed Query client
//! ([`super::ec2_query`], API [`CLOUDWATCH`](super::ec2_query::CLOUDWATCH)).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::config::AwsClients;
use super::ec2_query::{child, child_text, children};
use super::error::AwsError;

/// The custom namespace of the fleet's metrics. The instance policy allows `PutMetricData`
/// only into it (`cloudwatch:namespace` condition, `modules/fleet/policies`).
pub const FLEET_METRICS_NAMESPACE: &str = "BBB/Fleet";

/// The dimension every fleet metric carries: the group's name, so that the group's average
/// over its instances is one statistic.
pub const GROUP_DIMENSION: &str = "AutoScalingGroupName";

/// The most data points one `PutMetricData` call takes (1,000 since 2023).
pub const PUT_METRIC_DATA_MAX: usize = 1000;

/// One data point: a count (`Unit=Count`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDatum {
    pub name: &'static str,
    pub value: f64,
}

/// One period of `GetMetricStatistics`.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoint {
    /// Unix seconds of the period's start.
    pub timestamp: i64,
    pub average: Option<f64>,
    pub sum: Option<f64>,
    pub sample_count: Option<f64>,
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn dimension_params(prefix: &str, group: &str, params: &mut Vec<(String, String)>) {
    params.push((
        format!("{prefix}Dimensions.member.1.Name"),
        GROUP_DIMENSION.into(),
    ));
    params.push((format!("{prefix}Dimensions.member.1.Value"), group.into()));
}

impl AwsClients {
    /// Publishes `data` for group `group` in `namespace` (one call per
    /// [`PUT_METRIC_DATA_MAX`] points), timestamped now.
    pub async fn put_metric_data(
        &self,
        namespace: &str,
        group: &str,
        data: &[MetricDatum],
    ) -> Result<(), AwsError> {
        let now = crate::time::format_rfc3339(unix(SystemTime::now()));
        for chunk in data.chunks(PUT_METRIC_DATA_MAX) {
            let mut params = vec![("Namespace".to_owned(), namespace.to_owned())];
            for (i, d) in chunk.iter().enumerate() {
                let p = format!("MetricData.member.{}.", i + 1);
                params.push((format!("{p}MetricName"), d.name.to_owned()));
                params.push((format!("{p}Value"), d.value.to_string()));
                params.push((format!("{p}Unit"), "Count".to_owned()));
                params.push((format!("{p}Timestamp"), now.clone()));
                dimension_params(&p, group, &mut params);
            }
            self.cloudwatch
                .call("PutMetricData", &format!("{namespace}/{group}"), &params)
                .await?;
        }
        Ok(())
    }

    /// The `Average`, `Sum` and `SampleCount` of metric `name` of group `group` over the last
    /// `window`, in periods of `period` (whole seconds, at least 1), oldest first.
    pub async fn metric_statistics(
        &self,
        namespace: &str,
        name: &str,
        group: &str,
        window: Duration,
        period: Duration,
    ) -> Result<Vec<Datapoint>, AwsError> {
        let end = SystemTime::now();
        let start = end.checked_sub(window).unwrap_or(UNIX_EPOCH);
        let mut params = vec![
            ("Namespace".to_owned(), namespace.to_owned()),
            ("MetricName".to_owned(), name.to_owned()),
            (
                "StartTime".to_owned(),
                crate::time::format_rfc3339(unix(start)),
            ),
            (
                "EndTime".to_owned(),
                crate::time::format_rfc3339(unix(end) + 1),
            ),
            ("Period".to_owned(), period.as_secs().max(1).to_string()),
            ("Statistics.member.1".to_owned(), "Average".to_owned()),
            ("Statistics.member.2".to_owned(), "Sum".to_owned()),
            ("Statistics.member.3".to_owned(), "SampleCount".to_owned()),
        ];
        dimension_params("", group, &mut params);
        let body = self
            .cloudwatch
            .call(
                "GetMetricStatistics",
                &format!("{namespace}/{name}"),
                &params,
            )
            .await?;
        let mut points = parse_datapoints(&body).map_err(|detail| {
            AwsError::Config(format!("GetMetricStatistics answer unreadable: {detail}"))
        })?;
        points.sort_by_key(|p| p.timestamp);
        Ok(points)
    }
}

fn parse_datapoints(body: &str) -> Result<Vec<Datapoint>, String> {
    let doc = roxmltree::Document::parse(body).map_err(|e| e.to_string())?;
    let Some(list) = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "Datapoints")
    else {
        return Ok(Vec::new());
    };
    let num = |n: roxmltree::Node<'_, '_>, name: &str| {
        child_text(n, name).and_then(|t| t.parse::<f64>().ok())
    };
    Ok(children(list, "member")
        .map(|m| Datapoint {
            timestamp: child(m, "Timestamp")
                .and_then(|t| t.text())
                .and_then(parse_timestamp)
                .unwrap_or(0),
            average: num(m, "Average"),
            sum: num(m, "Sum"),
            sample_count: num(m, "SampleCount"),
        })
        .collect())
}

/// Unix seconds of an ISO 8601 UTC time (`2026-12-01T17:40:00Z`, fractions and `+00:00`
/// accepted).
fn parse_timestamp(text: &str) -> Option<i64> {
    let t = text.trim();
    let (date, time) = t.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    let time = time
        .trim_end_matches('Z')
        .split(['+', '.'])
        .next()
        .unwrap_or_default();
    let mut h = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (h.next()??, h.next()??, h.next().flatten().unwrap_or(0));
    Some(crate::time::days_from_civil(y, mo, da) * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_datapoints() {
        let body = r#"<GetMetricStatisticsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><GetMetricStatisticsResult><Label>Participants</Label><Datapoints><member><Timestamp>2026-12-01T17:41:00Z</Timestamp><SampleCount>2.0</SampleCount><Average>30.5</Average><Sum>61.0</Sum><Unit>Count</Unit></member><member><Timestamp>2026-12-01T17:40:00.000Z</Timestamp><Average>10</Average></member></Datapoints></GetMetricStatisticsResult></GetMetricStatisticsResponse>"#;
        let points = parse_datapoints(body).unwrap();
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].average, Some(30.5));
        assert_eq!(points[0].sum, Some(61.0));
        assert_eq!(points[0].sample_count, Some(2.0));
        assert_eq!(points[1].sum, None);
        assert_eq!(points[0].timestamp - points[1].timestamp, 60);
        assert_eq!(
            crate::time::format_rfc3339(points[1].timestamp),
            "2026-12-01T17:40:00Z"
        );
        assert!(parse_datapoints("<x/>").unwrap().is_empty());
        assert!(parse_datapoints("not xml").is_err());
    }
}
