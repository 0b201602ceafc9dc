//! Selections: every form, unions, intersections, exclusion, and the errors.

use super::*;

/// ```text
///  group wells:  raw_wells ──▶ stg_wells ──┐
///                raw_production ───────────┴─▶ stg_well_production
///  stg_well_production ──▶ fct_production ──▶ check_production
///                                         └──▶ report ◀── dim_region
/// ```
fn wells() -> AssetGraph {
    AssetGraph::new(vec![
        node("raw_wells", "ingestion", daily())
            .with_group("wells")
            .with_tag("daily"),
        node("raw_production", "ingestion", daily())
            .with_group("wells")
            .with_tag("daily")
            .with_tag("hourly_source"),
        node("stg_wells", "sql", daily())
            .with_group("wells")
            .with_dep("raw_wells", Mapping::Identity),
        node("stg_well_production", "sql", daily())
            .with_group("wells")
            .with_tag("daily")
            .with_dep("raw_production", Mapping::Identity)
            .with_dep("stg_wells", Mapping::Identity),
        node("fct_production", "rust", daily())
            .with_group("finance")
            .with_tag("daily")
            .with_dep("stg_well_production", Mapping::Identity),
        node("check_production", "quality", daily()).with_dep("fct_production", Mapping::Identity),
        node("dim_region", "seed", PartitionsDef::None),
        node("report", "sql", PartitionsDef::None)
            .with_group("finance")
            .with_dep("fct_production", Mapping::All)
            .with_dep("dim_region", Mapping::All),
    ])
    .expect("graph")
}

fn sel(text: &str) -> BTreeSet<String> {
    wells().select(text, None).expect("selection")
}

fn syntax(text: &str) -> (usize, String, SyntaxProblem) {
    match Selection::parse(text) {
        Err(SelectionError::Syntax {
            column,
            fragment,
            problem,
            ..
        }) => (column, fragment, problem),
        other => panic!("`{text}` should not parse: {other:?}"),
    }
}

#[test]
fn a_name_selects_that_asset() {
    assert_eq!(sel("stg_wells"), set(&["stg_wells"]));
}

#[test]
fn leading_plus_adds_all_ancestors() {
    assert_eq!(
        sel("+fct_production"),
        set(&[
            "fct_production",
            "stg_well_production",
            "raw_production",
            "stg_wells",
            "raw_wells"
        ])
    );
}

#[test]
fn trailing_plus_adds_all_descendants() {
    assert_eq!(
        sel("stg_wells+"),
        set(&[
            "stg_wells",
            "stg_well_production",
            "fct_production",
            "check_production",
            "report"
        ])
    );
}

#[test]
fn plus_on_both_sides() {
    assert_eq!(
        sel("+stg_well_production+"),
        set(&[
            "raw_wells",
            "stg_wells",
            "raw_production",
            "stg_well_production",
            "fct_production",
            "check_production",
            "report"
        ])
    );
}

#[test]
fn ancestor_depth_limits_the_reach() {
    assert_eq!(
        sel("1+fct_production"),
        set(&["fct_production", "stg_well_production"])
    );
    assert_eq!(
        sel("2+fct_production"),
        set(&[
            "fct_production",
            "stg_well_production",
            "raw_production",
            "stg_wells"
        ])
    );
}

#[test]
fn descendant_depth_limits_the_reach() {
    assert_eq!(
        sel("stg_wells+1"),
        set(&["stg_wells", "stg_well_production"])
    );
    assert_eq!(
        sel("1+stg_well_production+2"),
        set(&[
            "raw_production",
            "stg_wells",
            "stg_well_production",
            "fct_production",
            "check_production",
            "report"
        ])
    );
}

#[test]
fn at_adds_descendants_and_their_ancestors() {
    assert_eq!(
        sel("@fct_production"),
        set(&[
            "fct_production",
            "check_production",
            "report",
            "dim_region",
            "stg_well_production",
            "raw_production",
            "stg_wells",
            "raw_wells"
        ])
    );
    assert_eq!(
        sel("@report"),
        set(&[
            "report",
            "fct_production",
            "dim_region",
            "stg_well_production",
            "raw_production",
            "stg_wells",
            "raw_wells"
        ])
    );
}

#[test]
fn methods_select_by_group_tag_and_kind() {
    assert_eq!(
        sel("group:wells"),
        set(&[
            "raw_wells",
            "raw_production",
            "stg_wells",
            "stg_well_production"
        ])
    );
    assert_eq!(
        sel("tag:daily"),
        set(&[
            "raw_wells",
            "raw_production",
            "stg_well_production",
            "fct_production"
        ])
    );
    assert_eq!(
        sel("kind:sql"),
        set(&["stg_wells", "stg_well_production", "report"])
    );
    assert_eq!(sel("kind:quality"), set(&["check_production"]));
    assert_eq!(
        sel("group:finance+"),
        set(&["fct_production", "check_production", "report"])
    );
    assert_eq!(sel("+tag:hourly_source"), set(&["raw_production"]));
}

#[test]
fn spaces_unite() {
    assert_eq!(
        sel("stg_wells dim_region  kind:quality"),
        set(&["stg_wells", "dim_region", "check_production"])
    );
    assert_eq!(sel("stg_wells stg_wells"), set(&["stg_wells"]));
}

#[test]
fn commas_intersect() {
    assert_eq!(
        sel("tag:daily,group:wells"),
        set(&["raw_wells", "raw_production", "stg_well_production"])
    );
    assert_eq!(
        sel("kind:sql,+fct_production"),
        set(&["stg_wells", "stg_well_production"])
    );
    // Spaces around a comma do not split the term.
    assert_eq!(sel("tag:daily , group:wells"), sel("tag:daily,group:wells"));
    // Union of intersections.
    assert_eq!(
        sel("tag:daily,kind:rust kind:seed"),
        set(&["fct_production", "dim_region"])
    );
    // An empty intersection is fine.
    assert_eq!(sel("kind:seed,group:wells"), BTreeSet::new());
}

#[test]
fn star_or_nothing_selects_everything() {
    let all = wells().names();
    assert_eq!(all.len(), 8);
    for text in ["", "   ", "*", "* stg_wells", "*,*"] {
        assert_eq!(sel(text), all, "`{text}`");
    }
    assert_eq!(sel("*,kind:sql"), sel("kind:sql"));
    assert!(Selection::parse("").expect("parse").is_all());
    assert!(Selection::parse("a *").expect("parse").is_all());
    assert!(!Selection::parse("a").expect("parse").is_all());
}

#[test]
fn exclude_removes_what_it_selects() {
    let graph = wells();
    assert_eq!(
        graph
            .select("+fct_production", Some("group:wells"))
            .expect("selection"),
        set(&["fct_production"])
    );
    assert_eq!(
        graph
            .select("*", Some("kind:sql kind:quality"))
            .expect("selection"),
        set(&[
            "raw_wells",
            "raw_production",
            "fct_production",
            "dim_region"
        ])
    );
    assert_eq!(
        graph
            .select("stg_wells+", Some("report+"))
            .expect("selection"),
        set(&[
            "stg_wells",
            "stg_well_production",
            "fct_production",
            "check_production"
        ])
    );
    // An empty exclude removes nothing (it does not mean "everything").
    assert_eq!(
        graph.select("kind:sql", Some("  ")).expect("selection"),
        sel("kind:sql")
    );
    assert_eq!(
        graph.select("kind:sql", Some("*")).expect("selection"),
        BTreeSet::new()
    );
}

#[test]
fn an_unknown_name_suggests_the_closest() {
    let graph = wells();
    let err = graph
        .select("+stg_well_prodution", None)
        .expect_err("unknown");
    assert_eq!(
        err,
        SelectionError::UnknownAsset {
            name: "stg_well_prodution".to_string(),
            suggestion: Some("stg_well_production".to_string()),
        }
    );
    assert_eq!(
        err.to_string(),
        "selection names unknown asset `stg_well_prodution`; did you mean `stg_well_production`?"
    );
    let err = graph.select("revenue", None).expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "selection names unknown asset `revenue`: no asset has a similar name (names are exact; `*` selects every asset)"
    );
    // In the exclude too.
    let err = graph.select("*", Some("raw_wels")).expect_err("unknown");
    assert_eq!(
        err,
        SelectionError::UnknownAsset {
            name: "raw_wels".to_string(),
            suggestion: Some("raw_wells".to_string()),
        }
    );
}

#[test]
fn a_method_value_no_asset_has_is_an_error() {
    let graph = wells();
    let err = graph.select("tag:dialy", None).expect_err("no match");
    assert_eq!(
        err,
        SelectionError::NoMatch {
            method: "tag",
            value: "dialy".to_string(),
            suggestion: Some("daily".to_string()),
        }
    );
    assert_eq!(
        err.to_string(),
        "selection `tag:dialy` matches no asset; did you mean `tag:daily`?"
    );
    assert_eq!(
        graph
            .select("group:marketing", None)
            .expect_err("no match")
            .to_string(),
        "selection `group:marketing` matches no asset; no asset has this group"
    );
    assert!(matches!(
        graph.select("kind:sq", None),
        Err(SelectionError::NoMatch { method: "kind", suggestion: Some(s), .. }) if s == "sql"
    ));
}

#[test]
fn syntax_errors_come_before_unknown_names() {
    let err = wells().select("nope", Some("a,,b")).expect_err("syntax");
    assert!(
        matches!(err, SelectionError::Syntax { column: 2, .. }),
        "{err}"
    );
}

#[test]
fn parse_errors_point_at_the_offending_part() {
    use SyntaxProblem as P;
    let cases: Vec<(&str, usize, &str, SyntaxProblem)> = vec![
        ("a,,b", 2, ",", P::DanglingComma),
        (",a", 1, ",", P::DanglingComma),
        ("a b,", 4, ",", P::DanglingComma),
        ("+", 2, "+", P::MissingName),
        ("@", 2, "@", P::MissingName),
        ("x +", 4, "+", P::MissingName),
        ("0+a", 1, "0+a", P::BadDepth),
        ("a+0", 3, "a+0", P::BadDepth),
        (
            "99999999999999999999999+a",
            1,
            "99999999999999999999999+a",
            P::BadDepth,
        ),
        ("a+x", 3, "a+x", P::UnexpectedChar { found: 'x' }),
        ("a++", 3, "a++", P::UnexpectedChar { found: '+' }),
        (
            "color:red",
            1,
            "color:red",
            P::UnknownMethod {
                method: "color".to_string(),
            },
        ),
        (
            "tag:",
            5,
            "tag:",
            P::EmptyValue {
                method: "tag".to_string(),
            },
        ),
        ("stg_*", 5, "stg_*", P::Glob),
        ("+*", 1, "+*", P::OperatorOnStar),
        ("@*", 1, "@*", P::OperatorOnStar),
        ("@+a", 2, "@+a", P::AtWithPlus),
        ("@a+", 3, "@a+", P::AtWithPlus),
        ("a$b", 2, "a$b", P::UnexpectedChar { found: '$' }),
        (
            "raw_wells 2+x!",
            14,
            "2+x!",
            P::UnexpectedChar { found: '!' },
        ),
        ("tag:a:b", 6, "tag:a:b", P::UnexpectedChar { found: ':' }),
        ("é 2+ü!", 6, "2+ü!", P::UnexpectedChar { found: '!' }),
    ];
    for (text, column, fragment, problem) in cases {
        assert_eq!(
            syntax(text),
            (column, fragment.to_string(), problem),
            "`{text}`"
        );
    }
}

#[test]
fn a_parse_error_reads_as_one_line() {
    let err = Selection::parse("tag:daily 2+a+y").expect_err("syntax");
    assert_eq!(
        err.to_string(),
        "cannot parse selection `tag:daily 2+a+y` at column 15 (`2+a+y`): unexpected `y`: names and values are letters, digits, `_`, `-`, `.` and `/`"
    );
    let err = Selection::parse("a+0").expect_err("syntax");
    assert_eq!(
        err.to_string(),
        "cannot parse selection `a+0` at column 3 (`a+0`): a depth is a whole number of at least 1, as in `2+name` or `name+1`"
    );
}

#[test]
fn selections_parse_into_an_ast_and_print_canonically() {
    let parsed = Selection::parse("2+a+1  tag:x , group:y @b kind:sql+").expect("parse");
    assert_eq!(
        parsed.terms[0].selectors[0],
        Selector {
            base: Base::Name("a".to_string()),
            graph: GraphOp::Plus {
                ancestors: Some(Depth::Max(2)),
                descendants: Some(Depth::Max(1)),
            },
        }
    );
    assert_eq!(
        parsed.terms[1].selectors,
        vec![
            Selector {
                base: Base::Tag("x".to_string()),
                graph: GraphOp::Plus {
                    ancestors: None,
                    descendants: None
                },
            },
            Selector {
                base: Base::Group("y".to_string()),
                graph: GraphOp::Plus {
                    ancestors: None,
                    descendants: None
                },
            },
        ]
    );
    assert_eq!(parsed.terms[2].selectors[0].graph, GraphOp::At);
    assert_eq!(
        parsed.terms[3].selectors[0],
        Selector {
            base: Base::Kind("sql".to_string()),
            graph: GraphOp::Plus {
                ancestors: None,
                descendants: Some(Depth::Unlimited),
            },
        }
    );
    assert_eq!(parsed.to_string(), "2+a+1 tag:x,group:y @b kind:sql+");
    assert_eq!(Selection::parse(" ").expect("parse").to_string(), "*");
    // A name may start with digits when no `+` follows them.
    assert_eq!(
        Selection::parse("2025_wells").expect("parse").terms[0].selectors[0].base,
        Base::Name("2025_wells".to_string())
    );
    // The parsed form resolves like the text.
    let graph = wells();
    let parsed = Selection::parse("tag:daily,group:wells").expect("parse");
    let exclude = Selection::parse("raw_wells").expect("parse");
    assert_eq!(
        graph.resolve(&parsed, Some(&exclude)).expect("resolve"),
        set(&["raw_production", "stg_well_production"])
    );
}
