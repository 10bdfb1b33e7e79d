//! Computed values a real provider already knows at plan time (its CustomizeDiff / plan
//! modifiers), which a schema alone cannot tell. Only what the modules rely on is here, each
//! written from the provider's documented behaviour; without it the check would report
//! failures the real provider does not have.

use rmpv::Value as Mp;

use crate::values::{get, is_unknown, unknown};

/// Fills in what the provider of `type_name` knows at plan.
pub fn apply(type_name: &str, planned: &mut Mp, config: &Mp) {
    if type_name == "aws_acm_certificate" {
        acm_domain_validation_options(planned, config);
    }
}

/// hashicorp/aws plans `aws_acm_certificate.domain_validation_options` with one element per
/// distinct name of `domain_name` and `subject_alternative_names` (their record name, type and
/// value unknown until AWS answers), so `for_each` over it keyed by `domain_name` plans: the
/// validation-record pattern of the provider's documentation.
fn acm_domain_validation_options(planned: &mut Mp, config: &Mp) {
    if !is_unknown(get(planned, "domain_validation_options")) {
        return;
    }
    let mut names: Vec<&str> = Vec::new();
    let Some(domain) = get(config, "domain_name").as_str() else {
        return;
    };
    names.push(domain);
    match get(config, "subject_alternative_names") {
        Mp::Array(sans) => {
            for s in sans {
                let Some(s) = s.as_str() else { return };
                if !names.contains(&s) {
                    names.push(s);
                }
            }
        }
        Mp::Nil => {}
        _ => return,
    }
    let options = names
        .into_iter()
        .map(|n| {
            Mp::Map(vec![
                (Mp::from("domain_name"), Mp::from(n)),
                (Mp::from("resource_record_name"), unknown()),
                (Mp::from("resource_record_type"), unknown()),
                (Mp::from("resource_record_value"), unknown()),
            ])
        })
        .collect();
    if let Mp::Map(entries) = planned {
        for (k, v) in entries.iter_mut() {
            if k.as_str() == Some("domain_validation_options") {
                *v = Mp::Array(options);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acm_validation_options_are_keyed_by_the_known_names() {
        let config = Mp::Map(vec![
            (Mp::from("domain_name"), Mp::from("a.example")),
            (
                Mp::from("subject_alternative_names"),
                Mp::Array(vec![Mp::from("b.example"), Mp::from("a.example")]),
            ),
            (Mp::from("domain_validation_options"), Mp::Nil),
        ]);
        let mut planned = config.clone();
        if let Mp::Map(e) = &mut planned {
            e[2].1 = unknown();
        }
        apply("aws_acm_certificate", &mut planned, &config);
        let Mp::Array(opts) = get(&planned, "domain_validation_options") else {
            panic!("options")
        };
        let names: Vec<_> = opts
            .iter()
            .map(|o| get(o, "domain_name").as_str())
            .collect();
        assert_eq!(names, [Some("a.example"), Some("b.example")]);
        assert!(is_unknown(get(&opts[0], "resource_record_value")));
    }
}
