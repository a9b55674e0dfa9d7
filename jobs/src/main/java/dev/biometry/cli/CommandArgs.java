package dev.biometry.cli;

import dev.biometry.config.JobConfig;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/**
 * The arguments of one command as picocli parsed them against the command's {@link CommandSpec}, and the builders of
 * those specs: value options ({@code --name value} or {@code --name=value}), switches, positionals and the job
 * options of {@link JobConfig#OPTIONS}. Only options given on the command line have a value here: each command
 * applies its own defaults and {@link JobConfig#fromOptions} its own, so the defaults that {@code --help} shows
 * are documentation and a command never hands an option it was not given to the job.
 */
final class CommandArgs {

    /** Columns of the usage text. */
    private static final int USAGE_WIDTH = 110;

    private final ParseResult parsed;

    CommandArgs(ParseResult parsed) {
        this.parsed = parsed;
    }

    /** The value of {@code --name} when given (the last one when given twice), else null. */
    String option(String name) {
        OptionSpec o = parsed.matchedOption("--" + name);
        return o == null ? null : o.getValue();
    }

    String option(String name, String fallback) {
        String v = option(name);
        return v == null ? fallback : v;
    }

    /** Whether the switch {@code --name} was given. */
    boolean flag(String name) {
        return parsed.hasMatchedOption("--" + name);
    }

    /** The positional arguments, in order (a command that declares none gets a picocli error for any). */
    List<String> positionals() {
        return parsed.matchedPositionalValue(0, List.of());
    }

    int intOption(String name, int fallback) {
        String v = option(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be an integer, got '" + v + "'");
        }
    }

    double doubleOption(String name, double fallback) {
        String v = option(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a number, got '" + v + "'");
        }
    }

    /**
     * A command named {@code name} with {@code --help} and {@code --version}; options are listed in the order they
     * are added. A repeated option keeps its last value, and {@code @file} arguments are not expanded (paths may
     * start with {@code @}).
     */
    static CommandSpec command(String name, String... description) {
        CommandSpec spec = CommandSpec.create().name(name).mixinStandardHelpOptions(true);
        spec.version(version());
        spec.usageMessage()
                .description(escaped(description))
                .sortOptions(false)
                .abbreviateSynopsis(true)
                .width(USAGE_WIDTH);
        spec.parser().overwrittenOptionsAllowed(true).expandAtFiles(false);
        return spec;
    }

    /**
     * Adds {@code --name LABEL}; {@code defaultValue} (null or empty: none shown) is what the command uses when the
     * option is not given.
     */
    static CommandSpec value(CommandSpec spec, String name, String label, String defaultValue, String description) {
        OptionSpec.Builder option = OptionSpec.builder("--" + name)
                .paramLabel(label)
                .type(String.class)
                .arity("1")
                .description(escaped(description));
        if (defaultValue != null && !defaultValue.isEmpty()) {
            option.defaultValue(defaultValue).showDefaultValue(Help.Visibility.ALWAYS);
        }
        spec.addOption(option.build());
        return spec;
    }

    /** Adds the switch {@code --name}. */
    static CommandSpec flag(CommandSpec spec, String name, String description) {
        spec.addOption(OptionSpec.builder("--" + name)
                .type(boolean.class)
                .arity("0")
                .description(escaped(description))
                .build());
        return spec;
    }

    /** Adds positional arguments (any number; the command checks how many it needs). */
    static CommandSpec positionals(CommandSpec spec, String label, String description) {
        spec.addPositional(PositionalParamSpec.builder()
                .index("0..*")
                .arity("0..*")
                .paramLabel(label)
                .type(List.class)
                .auxiliaryTypes(String.class)
                .description(escaped(description))
                .build());
        return spec;
    }

    /** Adds the job option {@code name} of {@link JobConfig#OPTIONS} with its description and default. */
    static CommandSpec jobOption(CommandSpec spec, String name) {
        JobConfig.Option o = JobConfig.OPTIONS.stream()
                .filter(option -> option.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no job option " + name));
        return value(spec, o.name(), "VALUE", o.defaultValue(), o.description());
    }

    /**
     * Adds every job option of {@link JobConfig#OPTIONS} that the command does not declare itself, with its
     * description and default; {@code commandDefaults} are the defaults the command gives some of them instead.
     */
    static CommandSpec jobOptions(CommandSpec spec, Map<String, String> commandDefaults) {
        for (JobConfig.Option o : JobConfig.OPTIONS) {
            if (spec.findOption("--" + o.name()) == null) {
                value(
                        spec,
                        o.name(),
                        "VALUE",
                        commandDefaults.getOrDefault(o.name(), o.defaultValue()),
                        o.description());
            }
        }
        return spec;
    }

    /** The given job options by name, to hand to {@link JobConfig#fromOptions}. */
    void putJobOptions(Map<String, String> given) {
        for (JobConfig.Option o : JobConfig.OPTIONS) {
            String v = option(o.name());
            if (v != null) {
                given.put(o.name(), v);
            }
        }
    }

    private static String version() {
        String v = CommandArgs.class.getPackage().getImplementationVersion();
        return "biometry " + (v == null ? "(development build)" : v);
    }

    /** picocli formats usage text with {@code String.format}: a literal {@code %} is written {@code %%}. */
    private static String[] escaped(String... lines) {
        String[] out = new String[lines.length];
        for (int i = 0; i < lines.length; i++) {
            out[i] = lines[i].replace("%", "%%");
        }
        return out;
    }
}
