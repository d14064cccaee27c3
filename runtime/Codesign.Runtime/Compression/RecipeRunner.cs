using Codesign.Compiler.Calibration;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Recipes;
using Codesign.IR.Weights;
using Codesign.Runtime.Text;

namespace Codesign.Runtime.Compression;

/// <summary>
/// Applies a recipe file to an imported model: finds and tokenizes the calibration text when the recipe
/// needs it (the recipe's <c>calibration.text</c>, else <c>calibration.txt</c> beside the model), then runs
/// the compression passes. The model's graph is rewritten in place.
/// </summary>
public static class RecipeRunner
{
    public static LayeredWeightStore Apply(ImportedModel model, string recipePath, Action<string>? log = null) =>
        Apply(model, RecipeLoader.Load(recipePath), Path.GetDirectoryName(Path.GetFullPath(recipePath))!, recipePath, log);

    public static LayeredWeightStore Apply(ImportedModel model, Recipe recipe, string recipeDirectory, string recipeSource, Action<string>? log = null) =>
        RecipePipeline.Apply(model.Graph, model.Weights, recipe, () => LoadCalibration(model, recipe, recipeDirectory, recipeSource), log);

    private static CalibrationSet LoadCalibration(ImportedModel model, Recipe recipe, string recipeDirectory, string recipeSource)
    {
        var spec = recipe.Calibration ?? new CalibrationSpec();
        string modelDirectory = File.Exists(model.Source) ? Path.GetDirectoryName(Path.GetFullPath(model.Source))! : model.Source;
        string path = spec.Text is { } t ? Path.Combine(recipeDirectory, t) : Path.Combine(modelDirectory, "calibration.txt");
        if (!File.Exists(path))
            throw new RecipeException(recipeSource, $"calibration text {path} does not exist (set calibration.text in the recipe)");
        var tokenizer = GgufVocabularies.TokenizerOf(model)
            ?? throw new RecipeException(recipeSource, $"{model.Source} has no tokenizer (tokenizer.model or a GGUF vocabulary) to tokenize the calibration text with");
        return CalibrationSet.FromTokens(tokenizer.Encode(File.ReadAllText(path)), spec.Sequences, spec.Length, tokenizer.BosId);
    }
}
