//! WhatsApp message templates: a body with numbered placeholders `{{1}}`, `{{2}}`…, filled in
//! order with the parameters of a send. The platform refuses a send whose parameter count does
//! not match (error 132000); we refuse it first, with a message that says what is missing.

use crate::error::DomainError;

/// The placeholders of a template body: how many there are. They must be numbered 1..=n
/// without gaps (each may appear more than once).
pub fn placeholder_count(body: &str) -> Result<usize, DomainError> {
    let mut seen = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        match inner.parse::<usize>() {
            Ok(n) if n >= 1 => seen.push(n),
            _ => {
                return Err(DomainError::invalid(
                    "body",
                    format!("`{{{{{inner}}}}}` is not a numbered placeholder: use {{{{1}}}}, {{{{2}}}}, …"),
                ));
            }
        }
        rest = &after[end + 2..];
    }
    seen.sort_unstable();
    seen.dedup();
    for (i, n) in seen.iter().enumerate() {
        if *n != i + 1 {
            return Err(DomainError::invalid(
                "body",
                format!("placeholders must be numbered 1 to {} without gaps", seen.len()),
            ));
        }
    }
    Ok(seen.len())
}

/// The body with each `{{n}}` replaced by `parameters[n - 1]`.
pub fn fill(body: &str, parameters: &[String]) -> Result<String, DomainError> {
    let expected = placeholder_count(body)?;
    if parameters.len() != expected {
        return Err(DomainError::invalid(
            "template.parameters",
            format!("this template takes {expected} parameter(s), {} given", parameters.len()),
        ));
    }
    if let Some(i) = parameters.iter().position(|p| p.trim().is_empty()) {
        return Err(DomainError::invalid("template.parameters", format!("parameter {} is empty", i + 1)));
    }
    let mut out = body.to_owned();
    for (i, p) in parameters.iter().enumerate() {
        out = out.replace(&format!("{{{{{}}}}}", i + 1), p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_counted_once_each_and_must_have_no_gaps() {
        assert_eq!(placeholder_count("Hi {{1}}, your order {{2}} ships; {{1}} rocks").unwrap(), 2);
        assert_eq!(placeholder_count("No placeholders").unwrap(), 0);
        assert!(placeholder_count("Hi {{2}}").is_err());
        assert!(placeholder_count("Hi {{name}}").is_err());
    }

    #[test]
    fn a_template_is_filled_in_order_and_the_count_must_match() {
        let body = "Hi {{1}}, ticket {{2}} is solved.";
        assert_eq!(fill(body, &["Mira".into(), "#4411".into()]).unwrap(), "Hi Mira, ticket #4411 is solved.");
        let err = fill(body, &["Mira".into()]).unwrap_err();
        assert!(err.to_string().contains("takes 2 parameter(s), 1 given"), "{err}");
        assert!(fill(body, &["Mira".into(), " ".into()]).is_err());
    }
}
